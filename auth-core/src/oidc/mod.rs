//! OpenID Connect relying party: the provider's metadata, the login (authorization code with
//! PKCE, `state` and `nonce`), the callback, the token endpoint, the ID token and logout
//! token checks, and the session sealed in cookies. The nginx layer moves the bytes.

pub mod callback;
mod codec;
pub mod cookie;
pub mod id_token;
pub mod login;
pub mod logout;
pub mod logout_token;
pub mod mark;
pub mod metadata;
pub mod opened;
pub mod pkce;
pub mod seal;
pub mod session;
pub mod ticket;
pub mod token;
pub mod userinfo;

pub use callback::{Callback, CallbackError};
pub use login::{AuthRequest, Login};
pub use metadata::{ClientAuth, Metadata, MetadataError};
pub use seal::{SealError, Sealer};
pub use session::{Session, SessionError};
