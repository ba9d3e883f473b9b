//! Uploads outside a request's own body (extensions): direct Cloudinary signing (`direct`) and
//! resumable tus uploads (`tus`).

pub mod direct;
pub mod tus;
