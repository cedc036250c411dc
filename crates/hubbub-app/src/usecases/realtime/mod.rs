pub mod sync;
pub mod typing;
