//! Reconcilers. (controller work)
