//! Connections from a chosen loopback address (127.0.0.0/8 is all this
//! host's): many terminals, each with its own address, as in a classroom.
//! Shared by the tests and the benchmarks (`#[path]`).

use std::net::TcpStream;

/// A connection to the service from `from` (a loopback address: each
/// classroom terminal has its own address).
pub fn connect_from(from: std::net::Ipv4Addr, port: u16) -> Option<TcpStream> {
    use std::os::fd::FromRawFd;
    let sa = |ip: std::net::Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor this function owns; it is
    // handed to TcpStream (which closes it) or closed here on failure.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return None;
        }
        let (local, remote) = (sa(from, 0), sa(std::net::Ipv4Addr::LOCALHOST, port));
        if libc::bind(fd, &local as *const _ as *const libc::sockaddr, len) != 0
            || libc::connect(fd, &remote as *const _ as *const libc::sockaddr, len) != 0
        {
            libc::close(fd);
            return None;
        }
        Some(TcpStream::from_raw_fd(fd))
    }
}
