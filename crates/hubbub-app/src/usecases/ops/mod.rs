//! Operations: what an operator or a load balancer asks of a node.

pub mod health;
