//! `auth.provider=GSSAPI`: Kerberos login, as the DataStax drivers speak it to DSE.
//!
//! The exchange (DSE's `DseAuthenticator`, SASL GSSAPI of RFC 4752):
//! 1. The node names its authenticator. To `com.datastax.bdp.cassandra.auth.DseAuthenticator`
//!    the client's initial response is the mechanism name, `GSSAPI`, and the node answers with
//!    the challenge `GSSAPI-START`. To any other authenticator the first Kerberos token is the
//!    initial response.
//! 2. Kerberos tokens go back and forth (`gss_init_sec_context`, mutual authentication) until
//!    the context is established; the client's last response is then empty.
//! 3. The node sends its security-layer offer, wrapped (`gss_wrap`): one octet of offered
//!    layers, three octets of maximum message size. The client takes "no security layer"
//!    (`javax.security.sasl.qop=auth`, as the reference), and answers, wrapped without
//!    encryption, `[0x01, 0, 0, 0]`: the layer and a maximum size of 0, which RFC 4752
//!    requires without a security layer, and no authorization identity (the authenticated
//!    principal is the identity).
//!
//! Credentials come from the keytab (`auth.gssapi.keyTab`, through MIT Kerberos's credential
//! store: `client_keytab`, with tickets kept in a process-private memory cache), or without a
//! keytab from the default ticket cache (`kinit`). The service principal asked for is the
//! host-based name `<auth.gssapi.service>@<host>`; see [`GssapiAuthenticator::new`] for the host.
//!
//! The binding is to the system's MIT Kerberos (`libgssapi_krb5`), declared here: only the
//! dozen calls the exchange needs, including `gss_acquire_cred_from`, which takes the keytab
//! per credential instead of through the process environment.

use std::ffi::{CString, c_int};
use std::ptr;
use std::sync::Arc;

use async_trait::async_trait;
use scylla::authentication::{AuthError, AuthenticatorProvider, AuthenticatorSession};

use crate::config::security::GssapiSettings;

/// The authenticator class of DSE, which negotiates the mechanism first.
pub const DSE_AUTHENTICATOR: &str = "com.datastax.bdp.cassandra.auth.DseAuthenticator";
const MECHANISM: &[u8] = b"GSSAPI";
const SERVER_INITIAL_CHALLENGE: &[u8] = b"GSSAPI-START";
/// RFC 4752 security layers.
const LAYER_NONE: u8 = 1;

#[allow(non_camel_case_types)]
mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    pub type OM_uint32 = u32;
    pub type gss_name_t = *mut c_void;
    pub type gss_cred_id_t = *mut c_void;
    pub type gss_ctx_id_t = *mut c_void;

    #[repr(C)]
    pub struct gss_buffer_desc {
        pub length: usize,
        pub value: *mut c_void,
    }

    #[repr(C)]
    pub struct gss_OID_desc {
        pub length: OM_uint32,
        pub elements: *mut c_void,
    }
    pub type gss_OID = *mut gss_OID_desc;

    #[repr(C)]
    pub struct gss_key_value_element_desc {
        pub key: *const c_char,
        pub value: *const c_char,
    }

    #[repr(C)]
    pub struct gss_key_value_set_desc {
        pub count: OM_uint32,
        pub elements: *const gss_key_value_element_desc,
    }

    pub const GSS_S_COMPLETE: OM_uint32 = 0;
    pub const GSS_S_CONTINUE_NEEDED: OM_uint32 = 1;
    pub const GSS_C_INDEFINITE: OM_uint32 = 0xffff_ffff;
    pub const GSS_C_INITIATE: c_int = 1;
    pub const GSS_C_ACCEPT: c_int = 2;
    pub const GSS_C_MUTUAL_FLAG: OM_uint32 = 2;
    pub const GSS_C_SEQUENCE_FLAG: OM_uint32 = 8;
    pub const GSS_C_GSS_CODE: c_int = 1;
    pub const GSS_C_MECH_CODE: c_int = 2;

    pub fn is_error(major: OM_uint32) -> bool {
        major & 0xffff_0000 != 0
    }

    #[link(name = "gssapi_krb5")]
    unsafe extern "C" {
        pub static GSS_C_NT_HOSTBASED_SERVICE: gss_OID;
        pub static GSS_C_NT_USER_NAME: gss_OID;

        pub fn gss_import_name(
            minor: *mut OM_uint32,
            name: *const gss_buffer_desc,
            name_type: gss_OID,
            out: *mut gss_name_t,
        ) -> OM_uint32;
        pub fn gss_release_name(minor: *mut OM_uint32, name: *mut gss_name_t) -> OM_uint32;
        pub fn gss_display_name(
            minor: *mut OM_uint32,
            name: gss_name_t,
            out: *mut gss_buffer_desc,
            name_type: *mut gss_OID,
        ) -> OM_uint32;
        pub fn gss_acquire_cred(
            minor: *mut OM_uint32,
            name: gss_name_t,
            time_req: OM_uint32,
            mechs: *mut c_void,
            usage: c_int,
            cred: *mut gss_cred_id_t,
            actual_mechs: *mut *mut c_void,
            time_rec: *mut OM_uint32,
        ) -> OM_uint32;
        pub fn gss_acquire_cred_from(
            minor: *mut OM_uint32,
            name: gss_name_t,
            time_req: OM_uint32,
            mechs: *mut c_void,
            usage: c_int,
            store: *const gss_key_value_set_desc,
            cred: *mut gss_cred_id_t,
            actual_mechs: *mut *mut c_void,
            time_rec: *mut OM_uint32,
        ) -> OM_uint32;
        pub fn gss_release_cred(minor: *mut OM_uint32, cred: *mut gss_cred_id_t) -> OM_uint32;
        pub fn gss_init_sec_context(
            minor: *mut OM_uint32,
            cred: gss_cred_id_t,
            ctx: *mut gss_ctx_id_t,
            target: gss_name_t,
            mech: gss_OID,
            flags: OM_uint32,
            time_req: OM_uint32,
            bindings: *mut c_void,
            input: *const gss_buffer_desc,
            actual_mech: *mut gss_OID,
            output: *mut gss_buffer_desc,
            ret_flags: *mut OM_uint32,
            time_rec: *mut OM_uint32,
        ) -> OM_uint32;
        pub fn gss_accept_sec_context(
            minor: *mut OM_uint32,
            ctx: *mut gss_ctx_id_t,
            cred: gss_cred_id_t,
            input: *const gss_buffer_desc,
            bindings: *mut c_void,
            src_name: *mut gss_name_t,
            mech: *mut gss_OID,
            output: *mut gss_buffer_desc,
            ret_flags: *mut OM_uint32,
            time_rec: *mut OM_uint32,
            delegated: *mut gss_cred_id_t,
        ) -> OM_uint32;
        pub fn gss_inquire_context(
            minor: *mut OM_uint32,
            ctx: gss_ctx_id_t,
            src_name: *mut gss_name_t,
            targ_name: *mut gss_name_t,
            lifetime: *mut OM_uint32,
            mech: *mut gss_OID,
            flags: *mut OM_uint32,
            locally_initiated: *mut c_int,
            open: *mut c_int,
        ) -> OM_uint32;
        pub fn gss_wrap(
            minor: *mut OM_uint32,
            ctx: gss_ctx_id_t,
            conf_req: c_int,
            qop: OM_uint32,
            input: *const gss_buffer_desc,
            conf_state: *mut c_int,
            output: *mut gss_buffer_desc,
        ) -> OM_uint32;
        pub fn gss_unwrap(
            minor: *mut OM_uint32,
            ctx: gss_ctx_id_t,
            input: *const gss_buffer_desc,
            output: *mut gss_buffer_desc,
            conf_state: *mut c_int,
            qop_state: *mut OM_uint32,
        ) -> OM_uint32;
        pub fn gss_delete_sec_context(
            minor: *mut OM_uint32,
            ctx: *mut gss_ctx_id_t,
            output: *mut gss_buffer_desc,
        ) -> OM_uint32;
        pub fn gss_release_buffer(minor: *mut OM_uint32, buffer: *mut gss_buffer_desc) -> OM_uint32;
        pub fn gss_display_status(
            minor: *mut OM_uint32,
            status: OM_uint32,
            status_type: c_int,
            mech: gss_OID,
            message_context: *mut OM_uint32,
            out: *mut gss_buffer_desc,
        ) -> OM_uint32;
    }

    pub fn empty() -> gss_buffer_desc {
        gss_buffer_desc { length: 0, value: std::ptr::null_mut() }
    }

    pub fn borrowed(bytes: &[u8]) -> gss_buffer_desc {
        gss_buffer_desc { length: bytes.len(), value: bytes.as_ptr() as *mut c_void }
    }

    /// Copies a buffer GSSAPI allocated, and releases it.
    pub fn take(buffer: &mut gss_buffer_desc) -> Vec<u8> {
        let out = if buffer.value.is_null() || buffer.length == 0 {
            Vec::new()
        } else {
            // SAFETY: GSSAPI filled `buffer` with `length` readable bytes at `value`.
            unsafe { std::slice::from_raw_parts(buffer.value as *const u8, buffer.length).to_vec() }
        };
        let mut minor = 0;
        // SAFETY: a buffer GSSAPI allocated (or an empty one), released once.
        unsafe { gss_release_buffer(&mut minor, buffer) };
        out
    }
}

/// A GSSAPI failure, with GSSAPI's own words for it.
fn status(what: &str, major: u32, minor: u32) -> String {
    let mut parts = Vec::new();
    for (code, kind) in [(major, ffi::GSS_C_GSS_CODE), (minor, ffi::GSS_C_MECH_CODE)] {
        if kind == ffi::GSS_C_MECH_CODE && code == 0 {
            continue;
        }
        let mut context = 0u32;
        loop {
            let (mut m, mut out) = (0u32, ffi::empty());
            // SAFETY: plain out-parameters; the buffer is released by `take`.
            let r = unsafe { ffi::gss_display_status(&mut m, code, kind, ptr::null_mut(), &mut context, &mut out) };
            if ffi::is_error(r) {
                break;
            }
            let text = String::from_utf8_lossy(&ffi::take(&mut out)).trim().to_string();
            if !text.is_empty() && !parts.contains(&text) {
                parts.push(text);
            }
            if context == 0 {
                break;
            }
        }
    }
    format!("{what}: {}", if parts.is_empty() { format!("GSSAPI status {major:#x}/{minor}") } else { parts.join("; ") })
}

/// An imported GSSAPI name, released on drop.
struct Name(ffi::gss_name_t);

impl Name {
    fn import(text: &str, kind: ffi::gss_OID) -> Result<Name, String> {
        let (mut minor, mut name) = (0u32, ptr::null_mut());
        let buffer = ffi::borrowed(text.as_bytes());
        // SAFETY: `buffer` borrows `text` for the call; `name` is an out-parameter.
        let major = unsafe { ffi::gss_import_name(&mut minor, &buffer, kind, &mut name) };
        if ffi::is_error(major) {
            return Err(status(&format!("cannot use the name {text}"), major, minor));
        }
        Ok(Name(name))
    }

    fn display(&self) -> Result<String, String> {
        let (mut minor, mut out) = (0u32, ffi::empty());
        // SAFETY: a live name; the buffer is released by `take`.
        let major = unsafe { ffi::gss_display_name(&mut minor, self.0, &mut out, ptr::null_mut()) };
        if ffi::is_error(major) {
            return Err(status("cannot display a name", major, minor));
        }
        Ok(String::from_utf8_lossy(&ffi::take(&mut out)).into_owned())
    }
}

/// `Drop` for a handle type wrapping one GSSAPI handle: `release(minor, handle)` frees it.
macro_rules! released_on_drop {
    ($handle:ty, $release:expr) => {
        impl Drop for $handle {
            fn drop(&mut self) {
                if !self.0.is_null() {
                    let mut minor = 0;
                    // SAFETY: the handle was made by GSSAPI for this value alone, and is released
                    // once, here.
                    unsafe { $release(&mut minor, &mut self.0) };
                }
            }
        }
    };
}

released_on_drop!(Name, ffi::gss_release_name);

/// Acquired credentials, released on drop. MIT's credential handles lock internally, so one
/// may be used by several contexts on several threads.
struct Cred(ffi::gss_cred_id_t);

// SAFETY: see the type's comment; the handle is only released in `drop`.
unsafe impl Send for Cred {}
unsafe impl Sync for Cred {}

released_on_drop!(Cred, ffi::gss_release_cred);

impl Cred {
    /// `usage`: GSS_C_INITIATE or GSS_C_ACCEPT; `store`: credential-store entries.
    fn acquire(principal: Option<&str>, usage: c_int, store: &[(&str, String)], what: &str) -> Result<Cred, String> {
        let name = principal.map(|p| Name::import(p, unsafe { ffi::GSS_C_NT_USER_NAME })).transpose()?;
        let raw_name = name.as_ref().map_or(ptr::null_mut(), |n| n.0);
        let owned: Vec<(CString, CString)> = store
            .iter()
            .map(|(k, v)| (CString::new(*k).unwrap_or_default(), CString::new(v.as_str()).unwrap_or_default()))
            .collect();
        let elements: Vec<ffi::gss_key_value_element_desc> =
            owned.iter().map(|(k, v)| ffi::gss_key_value_element_desc { key: k.as_ptr(), value: v.as_ptr() }).collect();
        let set = ffi::gss_key_value_set_desc { count: elements.len() as u32, elements: elements.as_ptr() };
        let (mut minor, mut cred) = (0u32, ptr::null_mut());
        // SAFETY: `set` and the strings it points to outlive the call; out-parameters only.
        let major = unsafe {
            if store.is_empty() {
                ffi::gss_acquire_cred(
                    &mut minor,
                    raw_name,
                    ffi::GSS_C_INDEFINITE,
                    ptr::null_mut(),
                    usage,
                    &mut cred,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            } else {
                ffi::gss_acquire_cred_from(
                    &mut minor,
                    raw_name,
                    ffi::GSS_C_INDEFINITE,
                    ptr::null_mut(),
                    usage,
                    &set,
                    &mut cred,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            }
        };
        if ffi::is_error(major) {
            return Err(status(what, major, minor));
        }
        Ok(Cred(cred))
    }
}

/// A security context, deleted on drop. Used by one exchange at a time (`&mut self`).
struct Context(ffi::gss_ctx_id_t);

// SAFETY: a context is only touched through `&mut` of its owner, one call at a time.
unsafe impl Send for Context {}
unsafe impl Sync for Context {}

released_on_drop!(Context, |minor, context| ffi::gss_delete_sec_context(minor, context, ptr::null_mut()));

impl Context {
    fn wrap(&mut self, data: &[u8], encrypt: bool) -> Result<Vec<u8>, String> {
        let (mut minor, mut out) = (0u32, ffi::empty());
        let input = ffi::borrowed(data);
        // SAFETY: an established context; `input` borrows `data` for the call.
        let major =
            unsafe { ffi::gss_wrap(&mut minor, self.0, c_int::from(encrypt), 0, &input, ptr::null_mut(), &mut out) };
        if ffi::is_error(major) {
            return Err(status("gss_wrap failed", major, minor));
        }
        Ok(ffi::take(&mut out))
    }

    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let (mut minor, mut out) = (0u32, ffi::empty());
        let input = ffi::borrowed(data);
        // SAFETY: as in `wrap`.
        let major = unsafe { ffi::gss_unwrap(&mut minor, self.0, &input, &mut out, ptr::null_mut(), ptr::null_mut()) };
        if ffi::is_error(major) {
            return Err(status("gss_unwrap failed", major, minor));
        }
        Ok(ffi::take(&mut out))
    }

    /// The initiator's (client's) name of an established context.
    fn source_name(&self) -> Result<String, String> {
        let (mut minor, mut name) = (0u32, ptr::null_mut());
        // SAFETY: an established context; only the source name is asked for.
        let major = unsafe {
            ffi::gss_inquire_context(
                &mut minor,
                self.0,
                &mut name,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if ffi::is_error(major) {
            return Err(status("gss_inquire_context failed", major, minor));
        }
        Name(name).display()
    }
}

/// The driver's authenticator for `auth.provider=GSSAPI`.
pub struct GssapiAuthenticator {
    cred: Arc<Cred>,
    target: String,
}

impl std::fmt::Debug for GssapiAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssapiAuthenticator").field("target", &self.target).finish()
    }
}

impl GssapiAuthenticator {
    /// Acquires the credentials. `host`: the host of the service principal asked for,
    /// `<service>@<host>` (Kerberos canonicalizes it as `krb5.conf` says). The driver does not
    /// tell an authenticator which node a connection goes to, so every node is asked for the
    /// ticket of this one host: the nodes must share that service principal (and its keys).
    pub fn new(settings: &GssapiSettings, host: &str) -> Result<GssapiAuthenticator, String> {
        let store = match &settings.keytab {
            Some(keytab) => {
                // Tickets stay in this process, shared by the connections of one principal and
                // keytab (a memory cache holds the tickets of one principal only).
                use std::hash::{Hash as _, Hasher as _};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (keytab, &settings.principal).hash(&mut h);
                vec![
                    ("client_keytab", format!("FILE:{}", keytab.display())),
                    ("ccache", format!("MEMORY:cassandra-sink-{}-{:016x}", std::process::id(), h.finish())),
                ]
            }
            None => Vec::new(),
        };
        let what = match (&settings.principal, &settings.keytab) {
            (Some(p), Some(k)) => {
                format!("cannot acquire Kerberos credentials for {p} with the keytab {}", k.display())
            }
            (None, Some(k)) => format!("cannot acquire Kerberos credentials with the keytab {}", k.display()),
            (Some(p), None) => format!("cannot acquire Kerberos credentials for {p} from the ticket cache"),
            (None, None) => "cannot acquire Kerberos credentials from the ticket cache (kinit)".to_string(),
        };
        let cred = Cred::acquire(settings.principal.as_deref(), ffi::GSS_C_INITIATE, &store, &what)?;
        Ok(GssapiAuthenticator { cred: Arc::new(cred), target: format!("{}@{}", settings.service, host) })
    }

    /// The host-based service name asked for (`dse@host`).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// A new exchange; `authenticator`: the class name the node gave.
    pub fn session(&self, authenticator: &str) -> Result<(Option<Vec<u8>>, GssapiSession), String> {
        let target = Name::import(&self.target, unsafe { ffi::GSS_C_NT_HOSTBASED_SERVICE })?;
        let mut session =
            GssapiSession { cred: self.cred.clone(), target, context: Context(ptr::null_mut()), state: State::Start };
        let initial = if authenticator == DSE_AUTHENTICATOR {
            Some(MECHANISM.to_vec())
        } else {
            session.step(Some(SERVER_INITIAL_CHALLENGE))?
        };
        Ok((initial, session))
    }
}

#[async_trait]
impl AuthenticatorProvider for GssapiAuthenticator {
    async fn start_authentication_session(
        &self,
        authenticator_name: &str,
    ) -> Result<(Option<Vec<u8>>, Box<dyn AuthenticatorSession>), AuthError> {
        let (initial, session) = self.session(authenticator_name).map_err(|e| format!("Kerberos (GSSAPI): {e}"))?;
        Ok((initial, Box::new(session)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Negotiating,
    SecurityLayer,
    Done,
}

/// One connection's exchange.
pub struct GssapiSession {
    cred: Arc<Cred>,
    target: Name,
    context: Context,
    state: State,
}

// SAFETY: the name is only read (by `gss_init_sec_context`) through `&mut self`.
unsafe impl Send for GssapiSession {}
unsafe impl Sync for GssapiSession {}

impl GssapiSession {
    /// The response to one challenge of the node.
    pub fn step(&mut self, challenge: Option<&[u8]>) -> Result<Option<Vec<u8>>, String> {
        let challenge = challenge.unwrap_or_default();
        match self.state {
            State::Start if challenge == SERVER_INITIAL_CHALLENGE => self.negotiate(&[]),
            State::Start | State::Negotiating => self.negotiate(challenge),
            State::SecurityLayer => self.security_layer(challenge),
            State::Done => Err("unexpected challenge after the exchange completed".into()),
        }
    }

    fn negotiate(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let (mut minor, mut out) = (0u32, ffi::empty());
        let input = ffi::borrowed(token);
        // SAFETY: live credentials, name and context (null before the first call, as GSSAPI
        // wants); `input` borrows `token` for the call; the output is released by `take`.
        let major = unsafe {
            ffi::gss_init_sec_context(
                &mut minor,
                self.cred.0,
                &mut self.context.0,
                self.target.0,
                ptr::null_mut(),
                ffi::GSS_C_MUTUAL_FLAG | ffi::GSS_C_SEQUENCE_FLAG,
                0,
                ptr::null_mut(),
                &input,
                ptr::null_mut(),
                &mut out,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let response = ffi::take(&mut out);
        match major {
            ffi::GSS_S_COMPLETE => self.state = State::SecurityLayer,
            ffi::GSS_S_CONTINUE_NEEDED => self.state = State::Negotiating,
            _ => {
                return Err(status(
                    &format!(
                        "cannot get a Kerberos ticket for the service {}",
                        self.target.display().unwrap_or_default()
                    ),
                    major,
                    minor,
                ));
            }
        }
        Ok(Some(response))
    }

    fn security_layer(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let offer = self.context.unwrap(challenge)?;
        if offer.len() != 4 {
            return Err(format!("the node's security-layer message has {} octets, not 4", offer.len()));
        }
        if offer[0] & LAYER_NONE == 0 {
            return Err(format!(
                "the node requires a SASL security layer (offered mask {:#04x}); only quality of protection \
                 'auth' (no layer) is supported, as with the reference connector",
                offer[0]
            ));
        }
        // No security layer, maximum message size 0 (RFC 4752 §3.1), no authorization id.
        let response = self.context.wrap(&[LAYER_NONE, 0, 0, 0], false)?;
        self.state = State::Done;
        Ok(Some(response))
    }
}

#[async_trait]
impl AuthenticatorSession for GssapiSession {
    async fn evaluate_challenge(&mut self, token: Option<&[u8]>) -> Result<Option<Vec<u8>>, AuthError> {
        self.step(token).map_err(|e| format!("Kerberos (GSSAPI): {e}"))
    }

    async fn success(&mut self, _token: Option<&[u8]>) -> Result<(), AuthError> {
        Ok(())
    }
}

/// The server side of the exchange, as DSE runs it: for tests of the client against a real
/// KDC without a DSE node.
#[doc(hidden)]
pub struct Acceptor {
    cred: Cred,
    context: Context,
    established: bool,
}

#[doc(hidden)]
impl Acceptor {
    /// Credentials of the service principal from `keytab`.
    pub fn new(keytab: &std::path::Path) -> Result<Acceptor, String> {
        let cred = Cred::acquire(
            None,
            ffi::GSS_C_ACCEPT,
            &[("keytab", format!("FILE:{}", keytab.display()))],
            "cannot acquire the service's credentials",
        )?;
        Ok(Acceptor { cred, context: Context(ptr::null_mut()), established: false })
    }

    /// One client token; the reply token (possibly empty) and whether the context is established.
    pub fn accept(&mut self, token: &[u8]) -> Result<(Vec<u8>, bool), String> {
        let (mut minor, mut out) = (0u32, ffi::empty());
        let input = ffi::borrowed(token);
        // SAFETY: live credentials and context; out-parameters only.
        let major = unsafe {
            ffi::gss_accept_sec_context(
                &mut minor,
                &mut self.context.0,
                self.cred.0,
                &input,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                &mut out,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let reply = ffi::take(&mut out);
        match major {
            ffi::GSS_S_COMPLETE => self.established = true,
            ffi::GSS_S_CONTINUE_NEEDED => {}
            _ => return Err(status("gss_accept_sec_context failed", major, minor)),
        }
        Ok((reply, self.established))
    }

    /// The authenticated client principal.
    pub fn client(&self) -> Result<String, String> {
        self.context.source_name()
    }

    pub fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        self.context.wrap(data, false)
    }

    pub fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        self.context.unwrap(data)
    }
}
