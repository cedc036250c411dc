pub mod read;
pub mod reoptimize;
