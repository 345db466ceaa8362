fn main() {
    println!("vpn-operator: under construction");
}
