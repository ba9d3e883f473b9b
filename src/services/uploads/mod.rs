//! Uploads that arrive outside a request's own body: direct browser uploads to Cloudinary
//! (`direct`) and resumable tus uploads (`tus`). Both end as the `Incoming` media of a later
//! request, stored by `Services::store_media`.

pub mod direct;
pub mod tus;

pub use direct::scope_of;
