//! The one error type of the service, its stable numeric catalogue and the
//! mapping of every error kind to an HTTP status.

use std::fmt;

/// What kind of failure an error is; decides the HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    Invalid,
    TooManyRequests,
    /// The request head did not arrive in time (408).
    RequestTimeout,
    /// The request head is over its size or field-count limit (431).
    HeadTooLarge,
    /// A method or transfer coding the service does not implement (501).
    NotImplemented,
    /// An HTTP version other than 1.0 and 1.1 (505).
    VersionNotSupported,
    Internal,
    Unavailable,
}

impl Kind {
    pub fn status(self) -> u16 {
        match self {
            Kind::BadRequest => 400,
            Kind::Unauthorized => 401,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::MethodNotAllowed => 405,
            Kind::Conflict => 409,
            Kind::PayloadTooLarge => 413,
            Kind::Invalid => 422,
            Kind::TooManyRequests => 429,
            Kind::RequestTimeout => 408,
            Kind::HeadTooLarge => 431,
            Kind::NotImplemented => 501,
            Kind::VersionNotSupported => 505,
            Kind::Internal => 500,
            Kind::Unavailable => 503,
        }
    }
}

macro_rules! catalogue {
    ($( $name:ident = $code:literal, $kind:ident, $doc:literal; )*) => {
        /// Every error the API can answer with. The numbers are stable: never
        /// reuse or renumber one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Code { $( $name ),* }

        impl Code {
            pub fn number(self) -> i64 { match self { $( Code::$name => $code ),* } }
            pub fn kind(self) -> Kind { match self { $( Code::$name => Kind::$kind ),* } }
            pub fn describe(self) -> &'static str { match self { $( Code::$name => $doc ),* } }
            pub fn name(self) -> &'static str { match self { $( Code::$name => stringify!($name) ),* } }
            pub const ALL: &'static [Code] = &[ $( Code::$name ),* ];
        }
    };
}

catalogue! {
    // 100xx: the request itself
    MalformedJson = 10001, BadRequest, "The body is not valid JSON.";
    InvalidField = 10002, Invalid, "A field has the wrong type or a value outside its rules; the message names the field.";
    MissingField = 10003, Invalid, "A required field is absent; the message names it.";
    UnknownField = 10004, Invalid, "The body carries a field this call does not take; the message names it.";
    RouteNotFound = 10005, NotFound, "No such route.";
    MethodNotAllowed = 10006, MethodNotAllowed, "The route exists but not with this HTTP method.";
    PayloadTooLarge = 10007, PayloadTooLarge, "The body is larger than the call accepts.";
    UnknownAction = 10008, Invalid, "The web dialect `action` names no operation of this resource.";
    Internal = 10010, Internal, "An internal error; the service log carries the cause.";
    StoreUnavailable = 10011, Unavailable, "The store could not be read or written.";
    HypervisorUnavailable = 10012, Unavailable, "libvirt is unreachable; operations that need it fail until it is back.";
    ShuttingDown = 10013, Unavailable, "The service is stopping and takes no new work.";
    StoreNotEmpty = 10014, Conflict, "An import goes only into an empty store.";
    NameMismatch = 10015, Conflict, "The current `name` sent with a change is not the object's name; reload and retry.";
    // 101xx: the HTTP wire (answered before any route; the connection then closes)
    MalformedRequest = 10101, BadRequest, "The request is not valid HTTP/1.1; the message names the part: the request line, a header (not UTF-8 or not ASCII, a bad Content-Length, Content-Length together with Transfer-Encoding) or the target.";
    RequestHeadTooLarge = 10102, HeadTooLarge, "The request head is larger than 8 KiB or has more than 128 header fields.";
    NotImplemented = 10103, NotImplemented, "The HTTP method or the Transfer-Encoding is not one the service implements.";
    HttpVersionUnsupported = 10104, VersionNotSupported, "Only HTTP/1.0 and HTTP/1.1 are served.";
    RequestTimeout = 10105, RequestTimeout, "The request head did not arrive in time (30 s).";
    // 1015x: the operation log
    OperationInterrupted = 10150, Internal, "Operation-log entry of a call the service stopped (a crash or kill) before answering: its change may or may not have been made.";
    // 110xx: authentication
    Unauthorized = 11001, Unauthorized, "The call needs `Authorization: Bearer <access_token>`.";
    TokenInvalid = 11002, Unauthorized, "The access token is unknown, revoked or expired.";
    BadCredentials = 11003, Unauthorized, "Wrong account name or password.";
    TooManyAttempts = 11004, TooManyRequests, "Too many failed logins for this account; wait and retry.";
    SetupTokenInvalid = 11005, Forbidden, "The setup token is wrong.";
    SetupDone = 11006, Conflict, "An admin account already exists; first-admin setup is closed.";
    RefreshInvalid = 11007, Unauthorized, "The refresh token is unknown, revoked or expired.";
    AdminDisabled = 11008, Forbidden, "The admin account is disabled; another admin can enable it (or `vdi-appliance admin set-password` offline).";
    AdminExists = 11010, Conflict, "An admin account with this name exists.";
    AdminLastOrSelf = 11011, Conflict, "Refused: an admin cannot disable or delete their own account, and the last enabled admin stays.";
    // 120xx: the generic web query
    QueryInvalid = 12001, Invalid, "A query parameter is malformed (searchtype, page, page_size).";
    QueryUnknownField = 12002, Invalid, "A query filter names a field the resource does not have.";
    QueryFilterRequired = 12003, Invalid, "`searchtype=contain` and `searchtype=single` need at least one field filter.";
    QueryNoMatch = 12004, NotFound, "`searchtype=single` found no record.";
    // 130xx: tasks and the operation log
    TaskNotFound = 13001, NotFound, "No task with this id.";
    SagaStepFailed = 13002, Internal, "A step of a multi-step operation failed (a test failpoint); what it had done was undone.";
    // 140xx: the host network
    HostNetwork = 14001, Internal, "A netlink request failed; the message carries the kernel's answer and the change was rolled back.";
    LinkNotFound = 14002, NotFound, "No such network interface on the host.";
    // 202xx: nodes and their NICs
    NodeNotFound = 20203, NotFound, "No node with this uuid.";
    BondNotFound = 20221, NotFound, "No bond with this uuid.";
    BondInvalid = 20222, Conflict, "The bond cannot be made or changed: a slave is in another bond or a switch's uplink, or the name is taken on the node.";
    VirtUnsupported = 20206, Conflict, "The host cannot run virtual machines; the message lists what is missing (vmx/svm, /dev/kvm, libvirt).";
    ControllerExists = 20210, Conflict, "The controller is already initialised; initialisation runs once.";
    StorageUnusable = 20213, Conflict, "A storage path cannot be used: its directories could not be made, or it is not a mounted, writable filesystem.";
    ControllerNotInitialised = 20216, Conflict, "The controller is not initialised yet: finish first-boot setup (POST /api/v1/controller/init) first.";
    NodeUnreachable = 20231, Conflict, "No route to the server: the address is not reachable from the controller (wrong address, cable, or firewall dropping).";
    NodeRefused = 20232, Conflict, "The server refused the SSH connection: sshd is not running or listens elsewhere.";
    NodeTimeout = 20233, Conflict, "The server did not answer in time (connection, SSH handshake or a command).";
    NodeAuthFailed = 20234, Invalid, "SSH authentication failed: the root password (or the controller's key) was not accepted.";
    NodeHostKeyChanged = 20235, Conflict, "The server's SSH host key is not the one pinned for it (at node/check or when it joined): refused as a possible impostor.";
    NodeNoService = 20236, Conflict, "The server does not have the appliance service installed: flash it with the same ISO first.";
    NodeVersionMismatch = 20237, Conflict, "The server runs another version of the appliance than the controller.";
    NodeAlreadyJoined = 20238, Conflict, "The server is already a controller or a node of a controller; delete it there (or reinstall it) first.";
    NodeNotChecked = 20239, Conflict, "Check the server (POST /api/v1/node/check) before adding it: adding pins the host key that check saw.";
    NodeBusy = 20240, Conflict, "The node hosts desktops or templates (named in the message), or a join or removal of it is running.";
    NodeIsController = 20241, Conflict, "The controller itself: refused unless `force` is true (delete is always refused).";
    NodeJoinFailed = 20242, Conflict, "Joining failed at the step the message names; everything done on both sides was undone.";
    NodeRemote = 20243, Conflict, "A command on the node failed; the message carries its answer.";
    NicNotFound = 20220, NotFound, "No NIC with this uuid, or it does not belong to the node named with it.";
    // 203xx: data networks, subnets and IP addresses
    NetworkNameExists = 20301, Conflict, "A data network with this name exists.";
    NetworkNotFound = 20302, NotFound, "No data network with this uuid.";
    NetworkInUse = 20303, Conflict, "The network is used by templates, desktops or allocated addresses.";
    VlanConflict = 20306, Conflict, "The VLAN id is missing, not allowed, or already used on this virtual switch.";
    FlatSwitchTaken = 20307, Conflict, "A flat virtual switch carries one network, and this one has it.";
    SubnetNotFound = 20310, NotFound, "No subnet with this uuid.";
    SubnetNameExists = 20311, Conflict, "The network has a subnet with this name.";
    SubnetOverlap = 20312, Conflict, "The address range overlaps another subnet of the network.";
    SubnetInUse = 20313, Conflict, "Addresses of the subnet are allocated; it cannot be deleted or shrunk past them.";
    NetworkConfirmPending = 20320, Conflict, "A network change that moved the management address waits for POST /api/v1/network/confirm; confirm it (or let it roll back) first.";
    IpNotEnough = 20737, Conflict, "The subnet has no free address left.";
    IpNotInRange = 20738, Invalid, "The address is outside the subnet's range.";
    IpInUse = 20739, Conflict, "The address is already allocated.";
    // 204xx: virtual switches
    VSwitchNameExists = 20401, Conflict, "A virtual switch with this name exists.";
    VSwitchNotFound = 20402, NotFound, "No virtual switch with this uuid.";
    VSwitchInUse = 20403, Conflict, "The virtual switch carries networks; delete them or keep its type.";
    VSwitchUplinkInvalid = 20404, Invalid, "An uplink is invalid: two uplinks on one node, or a NIC of another node.";
    // 201xx: resource pools (the range the predecessor used)
    PoolNameExists = 20103, Conflict, "A resource pool with this name exists.";
    PoolNotFound = 20104, NotFound, "No resource pool with this uuid.";
    PoolIsDefault = 20106, Conflict, "The default resource pool cannot be deleted or un-defaulted while other pools exist; make another pool the default first.";
    PoolInUse = 20114, Conflict, "The resource pool is still used by nodes, images, templates or desktop groups.";
    PoolNameMismatch = 20115, Conflict, "The `name` sent with a web-dialect change is not the pool's current name.";
    // 205xx: base images and ISOs
    ImageNotFound = 20501, NotFound, "No base image with this uuid.";
    ImageNameExists = 20502, Conflict, "A base image or ISO with this name exists.";
    ImageInvalid = 20503, Invalid, "The file is not a usable disk image (not a qcow2 header, `qemu-img check` finds errors, or qemu-img cannot read it), or not an ISO 9660 image (no `CD001` at byte 0x8001).";
    ImageMd5Mismatch = 20504, Invalid, "The file's md5 is not the `md5_sum` given.";
    ImageInUse = 20505, Conflict, "The base image or ISO is used by templates.";
    ImageDistributionFailed = 20506, Conflict, "A node could not pull a base image or template file from the controller (the message names the node, the file and why); what it already holds stays, and a retry continues the transfer.";
    IsoNotFound = 20510, NotFound, "No ISO with this uuid.";
    UploadTooLarge = 20511, PayloadTooLarge, "The upload (or the file to register) is larger than the configured limit or the free space.";
    UploadIncomplete = 20512, BadRequest, "The upload ended before the `Content-Length` it declared, or the connection broke off; nothing was recorded and the partial file was removed.";
    ImageUnsafe = 20513, Invalid, "The image refers to another file: an external data file, a backing file (for a node's pull: one outside the storage's `_base` directory), or a `json:` or protocol filename; refused.";
    ImagePathTaken = 20514, Conflict, "Another base image record holds this file.";
    ImageHashTimeout = 20515, Invalid, "Computing the file's md5 took longer than the time allowed; the file is not registered.";
    DiskFailed = 20520, Internal, "A disk-image operation (qemu-img) failed; the message carries its output.";
    HypervisorFailed = 20521, Internal, "libvirt refused an operation; the message carries its answer.";
    // 206xx: templates
    TemplateNotFound = 20601, NotFound, "No template with this uuid.";
    TemplateNameExists = 20602, Conflict, "A template with this name exists.";
    TemplateBusy = 20603, Conflict, "Another operation on this template is running, or the template is in a state that forbids this one (e.g. running while it must be off).";
    TemplateInUse = 20604, Conflict, "Desktop groups use the template.";
    VersionNotFound = 20605, NotFound, "The template has no kept version with this number.";
    DiskShrink = 20606, Invalid, "Disks only grow; the size given is smaller than the disk.";
    NoStorage = 20607, Conflict, "No storage has the role this operation needs on the node (roles 1-4, set at first boot).";
    VersionStale = 20608, Conflict, "The `cur_version` sent with a rollback is not the template's current version: it changed since; reload and retry.";
    ExportNotFound = 20609, NotFound, "No exported template image has this name: it was removed, or never made; export the template again.";
    // 207xx: groups (classrooms and user groups)
    GroupNotFound = 20701, NotFound, "No group with this uuid.";
    GroupNameExists = 20702, Conflict, "A group with this name exists.";
    GroupRangeOverlap = 20703, Conflict, "The classroom's terminal range overlaps another classroom's.";
    GroupInUse = 20704, Conflict, "Templates, desktop groups or users belong to the group.";
    // 208xx: desktop groups and desktops
    DesktopGroupNotFound = 20801, NotFound, "No desktop group with this uuid.";
    DesktopGroupNameExists = 20802, Conflict, "A desktop group with this name exists.";
    DesktopGroupInUse = 20803, Conflict, "The desktop group still has desktops, or something refers to it.";
    DesktopNotFound = 20804, NotFound, "No desktop with this uuid, or it is not in the group named with it.";
    DesktopBusy = 20805, Conflict, "Another operation on this desktop or its group is running, or the group is being built or deleted.";
    DesktopRunning = 20806, Conflict, "Desktops are running; stop them first.";
    SeatBusy = 20807, Conflict, "Another desktop group's desktop on the same classroom seat is running; only one runs per seat.";
    NodeOverCapacity = 20808, Conflict, "The node cannot hold the desktops asked for (memory or disk), or is not a node of the pool.";
    TemplateUpdating = 20809, Conflict, "The template is being updated (saved, rolled back or changed); desktop operations wait for it.";
    NoDesktopFree = 20810, Conflict, "Every desktop of the random group is taken.";
    // 209xx: users
    UserNotFound = 20901, NotFound, "No user with this uuid.";
    UserNameExists = 20902, Conflict, "A user with this login name exists.";
    UserInUse = 20903, Conflict, "Desktops are bound to the user.";
    UserUnknown = 20904, Unauthorized, "Terminal login: no user has this login name.";
    WrongPassword = 20905, Unauthorized, "Terminal login or password change: the password is wrong.";
    UserDisabled = 20906, Forbidden, "Terminal login: the user is disabled; an admin can enable them.";
    // 211xx: terminals
    SessionInvalid = 21101, Unauthorized, "The terminal session is unknown, ended (logout, or a login on another terminal) or expired; log in again.";
    TerminalNotFound = 21102, NotFound, "No terminal with this uuid or MAC, or the terminal has no desktop open.";
    TerminalExists = 21103, Conflict, "Another terminal record has this MAC address.";
    SeatTaken = 21104, Conflict, "Another terminal holds this seat number in the classroom; re-seat or delete it first.";
    ClassroomUnknown = 21105, NotFound, "No classroom's terminal range holds the terminal's address.";
    TerminalAddressMismatch = 21106, Forbidden, "The address the call says the terminal has is not the address it calls from (`terminal_source_check`).";
    DesktopGroupClosed = 21107, Conflict, "The desktop group is not offered to terminals: inactive, in maintenance, or not for this classroom or user.";
    SeatUnknown = 21108, NotFound, "The desktop group has no desktop for this seat number, or the user has no desktop in the group.";
    // 210xx: admin accounts
    NodeCredentialInvalid = 21201, Unauthorized, "The node credential (`Authorization: Bearer`) is missing or unknown; the controller issues one per node (POST /api/v1/node/credential).";
    NodeForeign = 21202, Forbidden, "The credential belongs to another node than the one the report speaks for.";
    MetricsTokenInvalid = 21203, Unauthorized, "GET /metrics needs `Authorization: Bearer` with the scrape token (POST /api/v1/system/metrics_token) or an admin access token.";
    // 213xx: consoles (the gateway and the SPICE proxy)
    ConsoleRefused = 21301, Forbidden, "The console token or proxy ticket is unknown, used up, expired or not this session's, or the tunnel names no console (`CONNECT` goes only to a ticket's name).";
    ConsoleNotRunning = 21302, Conflict, "The VM has no console now: it is not running (start it, or `edit` a template, first).";

    AdminNotFound = 21001, NotFound, "No admin account with this name.";
}

/// The service's error: a catalogue code plus a human message naming the object.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: Code,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.code.kind()
    }

    /// An internal failure: the cause is logged, the client sees a generic text.
    pub fn internal(cause: impl fmt::Display) -> Self {
        log::error!("internal error: {cause}");
        Error::new(Code::Internal, "Internal error; see the service log")
    }

    pub fn store(cause: impl fmt::Display) -> Self {
        log::error!("store error: {cause}");
        Error::new(
            Code::StoreUnavailable,
            "The store could not be read or written",
        )
    }

    pub fn invalid(field: &str, why: impl fmt::Display) -> Self {
        Error::new(Code::InvalidField, format!("Field `{field}`: {why}"))
    }

    pub fn missing(field: &str) -> Self {
        Error::new(Code::MissingField, format!("Field `{field}` is required"))
    }

    /// The text the client sees. Errors that wrap internals are built with
    /// `internal`/`store`, which log the cause and keep it out of the message.
    pub fn public_message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.number())
    }
}

impl std::error::Error for Error {}

/// The error catalogue as a Markdown table (`docs/errors.md` is this text).
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Error catalogue\n\n\
         Every reply is `{\"code\", \"msg\", \"data\"}`; `code` is 0 on success and one of \
         these numbers otherwise. The HTTP status is the one shown. This file is generated \
         from `src/error.rs` (`UPDATE_DOCS=1 cargo test --lib error` rewrites it).\n\n\
         | code | name | HTTP | meaning |\n|---:|---|---:|---|\n",
    );
    for c in Code::ALL {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.number(),
            c.name(),
            c.kind().status(),
            c.describe()
        ));
    }
    out
}

/// How many refused rows an import names before "and N more".
pub const REFUSALS_SHOWN: usize = 50;

/// The refused rows of an import (CSV): one error naming each, as one message
/// with a line per row (the code is the first row's).
#[derive(Default)]
pub struct Refusals {
    first: Option<Error>,
    lines: Vec<String>,
    pub count: usize,
}

impl Refusals {
    pub fn add(&mut self, e: Error) {
        self.count += 1;
        if self.lines.len() < REFUSALS_SHOWN {
            self.lines.push(e.message.clone());
        }
        self.first.get_or_insert(e);
    }

    pub fn into_result(self) -> Result<()> {
        let Some(mut e) = self.first else {
            return Ok(());
        };
        let mut msg = self.lines.join("\n");
        if self.count > self.lines.len() {
            msg.push_str(&format!(
                "\nand {} more refused lines",
                self.count - self.lines.len()
            ));
        }
        e.message = msg;
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_nonzero() {
        let mut seen = HashSet::new();
        for c in Code::ALL {
            assert_ne!(c.number(), 0);
            assert!(seen.insert(c.number()), "duplicate code {}", c.number());
        }
    }

    #[test]
    fn docs_errors_md_matches_catalogue() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md");
        let want = catalogue_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have, want,
            "docs/errors.md is stale: run UPDATE_DOCS=1 cargo test --lib error"
        );
    }

    #[test]
    fn internal_errors_hide_the_cause() {
        let e = Error::internal("disk /dev/sda exploded");
        assert!(!e.public_message().contains("sda"));
        assert_eq!(e.kind().status(), 500);
    }
}
