pub mod typing;
