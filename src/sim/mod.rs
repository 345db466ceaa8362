//! The simulated cloud. (simulator work)
