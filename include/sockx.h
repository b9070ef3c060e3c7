/* SPDX-License-Identifier: MIT */
/*
 * sockx.h - libsockx, safe and easy Unix-domain and TCP/UDP sockets.
 *
 * The one installed header.  Plain C99 and C++-safe; link with -lsockx
 * (pkg-config --cflags --libs libsockx).  The full reference is sockx(7) and
 * the section-3 pages.
 *
 * Conventions of every function (sockx(7) says them at length):
 *  - A function that fails returns a negative errno value (-EINVAL,
 *    -ETIMEDOUT, ...) and leaves errno set to the positive value.  Success is
 *    0 or a non-negative count.  Nothing is printed; nothing aborts.
 *  - timeout_ms: -1 waits forever, 0 tries once, > 0 is a limit in
 *    milliseconds for the whole call (one CLOCK_MONOTONIC deadline); other
 *    negative values are -EINVAL.  A deadline that passes is -ETIMEDOUT.
 *  - EINTR is never returned.  No call raises SIGPIPE (-EPIPE instead).
 *  - Every descriptor the library creates or receives is close-on-exec.
 *  - NULL handles, NULL out-pointers, NULL buffers with a non-zero length
 *    and unknown flags are -EINVAL.  Out-parameters are written only on
 *    success.
 *  - No global mutable state: different handles may be used from different
 *    threads freely.
 *
 * Status of this release (1.1.0): the whole 1.0 API and the 1.1 additions
 * are implemented: poll sets (sockx_poll_*, Linux only for now), inherited
 * sockets (sockx_listen of fd:N and systemd:NAME), sockx_notify and
 * channels (sockx_chan_*) (sockx(7), STATUS).
 */
#ifndef SOCKX_H
#define SOCKX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOCKX_VERSION_MAJOR 1
#define SOCKX_VERSION_MINOR 1
#define SOCKX_VERSION_PATCH 0

/*
 * sockx_version - the library's version at run time, "1.1.0".
 *
 * Returns a static string; it may differ from the SOCKX_VERSION_* macros
 * the program was compiled with when a newer library is installed.
 */
const char *sockx_version(void);

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

/*
 * Enough for any formatted address, NUL included: "@" and a 107-byte
 * abstract name with every byte escaped as \xHH, and the terminating NUL.
 */
#define SOCKX_ADDRSTRLEN 430

/*
 * sockx_addr_parse - turn address text into a ready-to-use sockaddr.
 *
 * text: one of
 *   /path, ./path, unix:path         filesystem socket, SOCK_STREAM
 *   @name, unix:@name                Linux abstract name; in name, \\ is a
 *                                    backslash and \xHH any byte (NUL too)
 *   @, unix:@                        autobind (the kernel picks a name)
 *   1.2.3.4:80, tcp:1.2.3.4:80       IPv4 and port, SOCK_STREAM
 *   [::1]:80, [fe80::1%eth0]:80      IPv6 and port; zone by name or index
 *   unixgram:..., unixpacket:...     unix address, SOCK_DGRAM/SOCK_SEQPACKET
 *   udp:...                          IP address, SOCK_DGRAM
 * Hosts are numeric only: nothing is ever resolved, nothing blocks.
 * addr, len: receive the sockaddr and its exact length.
 * type: receives SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET; may be NULL.
 *
 * The listen-only forms "fd:N" and "systemd:[NAME[:K]]" (sockx_listen)
 * name no sockaddr and are -EINVAL here.
 *
 * Returns 0, or -EINVAL (malformed text, NULL text/addr/len),
 * -ENAMETOOLONG (path or abstract name over 107 bytes), -ENODEV (unknown
 * zone interface name).  Nothing is written on failure.
 */
int sockx_addr_parse(const char *text, struct sockaddr_storage *addr,
                     socklen_t *len, int *type);

/*
 * sockx_addr_format - write the canonical text of a sockaddr.
 *
 * Works like snprintf: writes at most size bytes to buf, NUL-terminated
 * when size > 0, and returns the length the full text needs (without the
 * NUL); buf may be NULL when size is 0.  The text is scheme-less and parses
 * back to the same sockaddr, except the unnamed address (len ==
 * sizeof(sa_family_t), formatted as "") and a 108-byte path without NUL.
 *
 * Returns the length, or -EINVAL (NULL addr, NULL buf with size > 0, a
 * length too short for the family, an AF_UNIX length over
 * sizeof(struct sockaddr_un), or an address no text can name: a relative
 * path starting with '@', an empty abstract name), -EAFNOSUPPORT (a family
 * other than AF_UNIX, AF_INET, AF_INET6).
 */
int sockx_addr_format(const struct sockaddr *addr, socklen_t len,
                      char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Handles                                                             */
/* ------------------------------------------------------------------ */

/* One socket and what the library knows of it.  Opaque. */
typedef struct sockx sockx;

/* Flags of sockx_listen. */
#define SOCKX_UNLINK_STALE    0x1u /* remove a stale socket file first */
#define SOCKX_UNLINK_ON_CLOSE 0x2u /* remove the socket file on close */
#define SOCKX_V6ONLY          0x4u /* IPV6_V6ONLY on an IPv6 listener */

/*
 * sockx_connect - connect to the address text within timeout_ms.
 *
 * A full unix backlog is retried until the deadline without spinning (a
 * backoff sleep of at most 8 ms between tries); TCP self-connects are
 * refused; a datagram address gives a connected datagram socket; port 0
 * and "@" are -EINVAL.  Unix paths longer than sun_path work (through
 * /proc/self/fd), but their local and peer addresses are -ENAMETOOLONG.
 * On success *out owns a new handle.  Errors keep their causes: -ENOENT,
 * -ECONNREFUSED, -EPROTOTYPE, -EACCES, -ETIMEDOUT, -EINVAL.
 */
int sockx_connect(sockx **out, const char *address, int timeout_ms);

/*
 * sockx_listen - bind (and listen, for stream/seqpacket) on address.
 *
 * backlog <= 0 means SOMAXCONN.  flags: SOCKX_UNLINK_STALE,
 * SOCKX_UNLINK_ON_CLOSE, SOCKX_V6ONLY; others are -EINVAL; a flag that
 * does not apply to the address is ignored.  SOCKX_UNLINK_STALE locks the
 * socket's directory (flock) against other libsockx processes while it
 * binds.  mode (e.g. 0660, bits within 0777) sets a unix socket file's
 * permissions without a moment of wider ones and without touching the
 * umask; 0 keeps the kernel's default; non-zero on a non-path address is
 * -EINVAL.  TCP listeners set SO_REUSEADDR.  On success *out owns a new
 * handle.
 *
 * Inherited sockets (1.1): "fd:N" adopts descriptor N (decimal, no sign,
 * no leading zero, at most INT_MAX); "systemd:NAME" the socket passed by
 * socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES; fds from 3)
 * named NAME, "systemd:" the only passed socket, "systemd:NAME:K" the
 * K-th (from 0) of those named NAME.  The socket must be listening, or a
 * datagram socket with a local name and no peer; it is adopted as
 * sockx_adopt does.  backlog is ignored; flags and mode must be 0.
 * Errors: -EBADF (N not open), -ENOTSOCK, -EINVAL (malformed text or
 * environment, not a listener, flags or mode, "systemd:" with several
 * passed sockets), -ENOENT (nothing passed to this process, or not that
 * name), -ENOTUNIQ (several passed sockets have NAME).  On failure the
 * descriptor is left exactly as it was.  The environment is read with
 * secure_getenv (ignored in set-user-ID programs and those with file
 * capabilities) and never changed; a passed socket may be taken once per
 * process (the library cannot tell: a second take makes two handles of
 * one descriptor).  sockx_connect and sockx_connect_any refuse these
 * forms with -EINVAL.
 */
int sockx_listen(sockx **out, const char *address, int backlog,
                 unsigned flags, unsigned mode);

/*
 * sockx_accept - accept one connection on listener within timeout_ms.
 *
 * Resource exhaustion (-EMFILE, -ENFILE, -ENOBUFS, -ENOMEM) is returned at
 * once; connections aborted before acceptance are skipped.  On success *out
 * owns a new handle.
 */
int sockx_accept(sockx *listener, sockx **out, int timeout_ms);

/*
 * sockx_pair - a connected AF_UNIX socketpair of type SOCK_STREAM,
 * SOCK_DGRAM or SOCK_SEQPACKET.  On success *a and *b own one end each.
 */
int sockx_pair(sockx **a, sockx **b, int type);

/*
 * sockx_adopt - take ownership of the socket fd.
 *
 * Sets O_NONBLOCK (on the open file description, so other copies of it see
 * it too) and FD_CLOEXEC.  -ENOTSOCK for a non-socket.  On failure the
 * caller still owns fd.
 */
int sockx_adopt(sockx **out, int fd);

/* sockx_fd - borrow the descriptor; it stays owned by s.  -EINVAL if NULL. */
int sockx_fd(const sockx *s);

/*
 * sockx_set_kernel_timeouts - on != 0: the timed transfers of s (read,
 * write, their _full loops, sendto, recvfrom, send_fds, recv_fds,
 * send_cred, recv_cred) sleep in the system call itself, on a blocking
 * descriptor with SO_RCVTIMEO / SO_SNDTIMEO set to the time left (set
 * only when it changes), instead of trying first and waiting in
 * select/poll: one system call per transfer that has to wait, fastest
 * when the peer runs on another CPU.  The same contract holds (one
 * deadline, no EINTR, no SIGPIPE, -ETIMEDOUT), but a timeout can end a
 * kernel clock tick or two late, a stream send waits until all of len is
 * queued or the deadline passes, and two threads must not both receive
 * (or both send) on s at once.  0 turns it off.  The descriptor's
 * O_NONBLOCK flag, which copies of it share, is cleared while it is on;
 * do not set SO_RCVTIMEO / SO_SNDTIMEO on it yourself.  -EOPNOTSUPP on a
 * listening socket.
 */
int sockx_set_kernel_timeouts(sockx *s, int on);

/*
 * sockx_release - free the handle and return its descriptor, which the
 * caller now owns.  A member of a poll set leaves it first.
 * sockx_release(NULL) is -EINVAL.
 */
int sockx_release(sockx *s);

/* ------------------------------------------------------------------ */
/* Timed I/O                                                           */
/* ------------------------------------------------------------------ */

#define SOCKX_READABLE 1
#define SOCKX_WRITABLE 2

/*
 * sockx_read - read at most len bytes (one message on datagram/seqpacket
 * sockets) as soon as any arrive.  Returns the count, 0 at end of stream
 * (and at once for len 0 on a stream socket), -EMSGSIZE for a message
 * longer than len (consumed), -ETIMEDOUT.  Descriptors a peer attached to
 * the data are closed.
 */
ssize_t sockx_read(sockx *s, void *buf, size_t len, int timeout_ms);

/*
 * sockx_write - write at most len bytes (one message on datagram/seqpacket
 * sockets) as soon as any can move.  Returns the count (0 at once for len 0
 * on a stream socket), -EPIPE when the peer is gone (never SIGPIPE),
 * -ETIMEDOUT.
 */
ssize_t sockx_write(sockx *s, const void *buf, size_t len, int timeout_ms);

/*
 * sockx_read_full - read exactly len bytes under one deadline.  Returns len,
 * or less only at end of stream.  On error or timeout returns the negative
 * code; *done (if done is not NULL) always receives the bytes that moved.
 */
ssize_t sockx_read_full(sockx *s, void *buf, size_t len, size_t *done,
                        int timeout_ms);

/* sockx_write_full - write exactly len bytes under one deadline; as above. */
ssize_t sockx_write_full(sockx *s, const void *buf, size_t len, size_t *done,
                         int timeout_ms);

/*
 * sockx_sendto - send one datagram to the address to (NULL, with tolen 0:
 * the connected peer).  A full unix datagram receiver, which poll cannot
 * report, is retried with a backoff sleep until the deadline.
 */
ssize_t sockx_sendto(sockx *s, const void *buf, size_t len,
                     const struct sockaddr *to, socklen_t tolen,
                     int timeout_ms);

/*
 * sockx_recvfrom - receive one datagram; from and fromlen (both NULL or
 * both set) receive the sender's address.
 */
ssize_t sockx_recvfrom(sockx *s, void *buf, size_t len,
                       struct sockaddr_storage *from, socklen_t *fromlen,
                       int timeout_ms);

/*
 * sockx_wait - wait until s is ready for some of events (SOCKX_READABLE |
 * SOCKX_WRITABLE).  Returns the ready subset (non-zero) or -ETIMEDOUT.
 */
int sockx_wait(sockx *s, int events, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Many connects under one wait                                        */
/* ------------------------------------------------------------------ */

#define SOCKX_CONNECT_STAGGER_MS 250

/*
 * sockx_connect_any - connect to the first of n stream or seqpacket
 * addresses that answers (RFC 8305 style), within timeout_ms for the whole
 * call: addresses[0] starts at once, each next attempt when the previous
 * one failed or SOCKX_CONNECT_STAGGER_MS after it started; attempts in
 * flight are waited on together (a full unix backlog is retried without
 * spinning); the first to complete wins, every other socket is closed.  If
 * all fail, the error of addresses[0]; -ETIMEDOUT if the deadline passes
 * first.  Invalid or datagram addresses and n == 0 are -EINVAL before
 * anything is sent.
 */
int sockx_connect_any(sockx **out, const char *const *addresses, size_t n,
                      int timeout_ms);

/* ------------------------------------------------------------------ */
/* Descriptor passing (SCM_RIGHTS)                                    */
/* ------------------------------------------------------------------ */

#define SOCKX_MAX_FDS 253 /* per message; more is -EINVAL */

/*
 * sockx_send_fds - send bytes of buf with the nfds descriptors of fds
 * riding on the first byte (len >= 1 on stream sockets; a datagram or
 * seqpacket message may be empty).  Like sockx_write it may send fewer than
 * len bytes and returns the count; send the rest with sockx_write_full.
 * The fds are never sent twice; the caller keeps its own copies.  Unix
 * sockets only (else -EOPNOTSUPP); nfds > SOCKX_MAX_FDS or fds NULL with
 * nfds > 0 is -EINVAL and an invalid descriptor -EBADF, with nothing sent.
 */
ssize_t sockx_send_fds(sockx *s, const void *buf, size_t len,
                       const int *fds, size_t nfds, int timeout_ms);

/*
 * sockx_recv_fds - receive bytes and descriptors.  *nfds is the capacity of
 * fds on entry and the number received on return; received fds are
 * close-on-exec and owned by the caller.  Room for SOCKX_MAX_FDS is offered
 * to the kernel whatever the capacity: more fds than the capacity, or a
 * truncation by the kernel (MSG_CTRUNC, e.g. RLIMIT_NOFILE) or of the data
 * (a message longer than len), closes every fd that arrived and fails with
 * -EMSGSIZE; the bytes of that call are dropped and the caller should
 * close the connection.  Returns 0 at end of stream.
 */
ssize_t sockx_recv_fds(sockx *s, void *buf, size_t len,
                       int *fds, size_t *nfds, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Credentials                                                        */
/* ------------------------------------------------------------------ */

struct sockx_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/*
 * sockx_peer_cred - the peer's credentials from SO_PEERCRED: the effective
 * ids of the process that connected (or listened, or created the
 * socketpair: after a fork it is still the creator), pid -1 if that process
 * is outside the caller's pid namespace.  -EOPNOTSUPP on a non-unix socket;
 * -ENOTCONN on a socket without a peer (listening, unconnected, a datagram
 * socket that is not one of a pair).
 */
int sockx_peer_cred(sockx *s, struct sockx_cred *cred);

/*
 * sockx_peer_pidfd - a new pidfd (close-on-exec, owned by the caller) of
 * the peer process, safe against pid reuse.  -ESRCH when it is gone
 * (exited), -EOPNOTSUPP where the system lacks SO_PEERPIDFD (Linux < 6.5),
 * otherwise the errors of sockx_peer_cred.
 */
int sockx_peer_pidfd(sockx *s);

/*
 * sockx_set_passcred - turn SO_PASSCRED on (on != 0) or off; -EOPNOTSUPP on
 * a non-unix socket.
 */
int sockx_set_passcred(sockx *s, int on);

/*
 * sockx_send_cred - send bytes with SCM_CREDENTIALS attached (cred NULL:
 * the caller's pid, effective uid and gid).  The kernel refuses false ones
 * with -EPERM unless the caller is privileged.  Partial sends and errors
 * as sockx_send_fds.
 */
ssize_t sockx_send_cred(sockx *s, const void *buf, size_t len,
                        const struct sockx_cred *cred, int timeout_ms);

/*
 * sockx_recv_cred - receive bytes and the sender's credentials; cred gets
 * pid -1, uid and gid (uid_t)-1 and (gid_t)-1 when none came, including
 * the kernel's placeholder (pid 0) for data queued before SO_PASSCRED was
 * on: enable sockx_set_passcred on the receiver before the peer sends.
 * Descriptors that arrive with the data are closed.
 */
ssize_t sockx_recv_cred(sockx *s, void *buf, size_t len,
                        struct sockx_cred *cred, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Service manager                                                     */
/* ------------------------------------------------------------------ */

/*
 * sockx_notify - send state (e.g. "READY=1", "STOPPING=1", "STATUS=...")
 * as one datagram, with the caller's credentials (pid, effective uid and
 * gid), to NOTIFY_SOCKET (an absolute path, or "@name" for an abstract
 * name), as sd_notify does.  A full receiver is waited on for up to
 * timeout_ms without spinning.  The environment is read with
 * secure_getenv (ignored in set-user-ID programs and those with file
 * capabilities) and never changed; the socket used is closed before the
 * call returns.
 *
 * Returns 1 when sent, 0 when NOTIFY_SOCKET is unset, or -EINVAL (NULL
 * or empty state, a timeout below -1, NOTIFY_SOCKET empty, relative, "@"
 * alone or longer than 107 bytes), -ETIMEDOUT, or the error of connect
 * or send as it is (-ENOENT, -ECONNREFUSED, -EACCES, ...).
 */
int sockx_notify(const char *state, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Closing and local/peer addresses                                   */
/* ------------------------------------------------------------------ */

/* sockx_shutdown - shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR. */
int sockx_shutdown(sockx *s, int how);

/*
 * sockx_set_linger - SO_LINGER for seconds; seconds < 0 turns it off (the
 * kernel default: close returns at once and the kernel sends what is
 * queued in the background).
 *
 * Per socket type: on TCP a positive linger makes sockx_close wait up to
 * that many seconds for unsent data to be acknowledged (even though the
 * descriptor is non-blocking), and 0 makes close send RST like
 * sockx_abort.  On AF_UNIX sockets and UDP the option is accepted and has
 * no effect: close never waits and no RST exists.
 */
int sockx_set_linger(sockx *s, int seconds);

/*
 * sockx_close - orderly close; frees s and returns the close() result (the
 * descriptor is closed and the handle freed whatever it is; a signal that
 * cut a linger short is -EINPROGRESS).  A listener made with
 * SOCKX_UNLINK_ON_CLOSE first removes its socket file, if this process
 * bound it (a forked child's close leaves it) and the file is still the
 * one it bound.  A member of a poll set leaves it first.
 * sockx_close(NULL) is a no-op returning 0.
 */
int sockx_close(sockx *s);

/*
 * sockx_abort - SO_LINGER {1, 0} then close: on TCP the peer gets RST
 * (ECONNRESET) and unsent data is discarded.  On AF_UNIX there is no RST:
 * the peer sees end of stream, as after sockx_close.  Otherwise as
 * sockx_close.  sockx_abort(NULL) is a no-op returning 0.
 */
int sockx_abort(sockx *s);

/*
 * sockx_local_addr, sockx_peer_addr - the bound and the peer address.
 * *len is an output only.  -ENAMETOOLONG for a socket bound or connected
 * through a path longer than sun_path.
 */
int sockx_local_addr(const sockx *s, struct sockaddr_storage *addr,
                     socklen_t *len);
int sockx_peer_addr(const sockx *s, struct sockaddr_storage *addr,
                    socklen_t *len);

/* ------------------------------------------------------------------ */
/* Poll sets (1.1): many handles, their deadlines and wake-ups        */
/* ------------------------------------------------------------------ */

/*
 * A poll set: one thread waits on many handles at once, each with its own
 * deadline, and a signal handler or another thread can wake it.  On Linux
 * it is built on epoll (close-on-exec), a binary heap of deadlines and an
 * eventfd; add, mod and del cost O(log n), a wait O(events reported +
 * deadlines passed x log n), never O(members).  Members may be numbered
 * at or above FD_SETSIZE; a set holds 100,000 members and more.
 *
 * Add, mod, del, wait, and closing a member are done by one thread at a
 * time; only sockx_poll_wake may overlap them.  A set belongs to the
 * process that created it: in a forked child, closing, aborting or
 * releasing an inherited member and sockx_poll_free change nothing the
 * parent sees; any other use of the set in a child is not supported
 * (sockx_poll_wake there would wake the parent).  sockx_poll_new(3).
 */
typedef struct sockx_poll sockx_poll;

/* One event of sockx_poll_wait. */
struct sockx_event {
	sockx *s;       /* the member; NULL for a wake-up */
	void *data;     /* the member's data; NULL for a wake-up */
	int events;     /* SOCKX_READABLE | SOCKX_WRITABLE | SOCKX_EXPIRED,
	                   or SOCKX_WOKEN alone */
	int reserved;   /* 0 */
};

#define SOCKX_EXPIRED   4       /* the member's deadline passed */
#define SOCKX_WOKEN     8       /* sockx_poll_wake was called */
#define SOCKX_POLL_KEEP (-2)    /* sockx_poll_mod: keep the deadline */

/*
 * sockx_poll_new - a new, empty poll set in *out.  flags must be 0.
 * -ENOMEM, -EMFILE (it holds two descriptors).  Free it with
 * sockx_poll_free.
 */
int sockx_poll_new(sockx_poll **out, unsigned flags);

/*
 * sockx_poll_add - make s a member of p, watched for events (a subset of
 * SOCKX_READABLE | SOCKX_WRITABLE; 0 watches only the deadline, and
 * neither readiness nor hang-ups are reported), with a deadline
 * timeout_ms from now (-1 none, 0 already due) and data handed back in
 * its events.  The handle stays the caller's.  -EBUSY if s is a member
 * of another set, -EEXIST if of this one; SOCKX_POLL_KEEP is -EINVAL.
 */
int sockx_poll_add(sockx_poll *p, sockx *s, int events, int timeout_ms,
                   void *data);

/*
 * sockx_poll_mod - replace the events of member s and its deadline
 * (timeout_ms from now, -1 none, or SOCKX_POLL_KEEP to keep it); data is
 * kept.  A mod that keeps events makes no system call, so re-arming an
 * idle deadline on activity is cheap.  -ENOENT if s is not a member of p.
 */
int sockx_poll_mod(sockx_poll *p, sockx *s, int events, int timeout_ms);

/*
 * sockx_poll_del - remove member s from p (the handle stays open and the
 * caller's).  -ENOENT if s is not a member of p.  Closing, aborting or
 * releasing a member removes it by itself.
 */
int sockx_poll_del(sockx_poll *p, sockx *s);

/*
 * sockx_poll_wait - wait until a member is ready, a member's deadline
 * passes or the set is woken, at most timeout_ms; store at most n events
 * in ev and return how many (at least 1), or -ETIMEDOUT.
 *
 * Readiness is level-triggered: a member is reported by every wait while
 * it is ready.  Hang-ups and socket errors are reported as the requested
 * readiness.  An expired member is reported once with SOCKX_EXPIRED (in
 * the same event as its readiness, if any) and then has no deadline until
 * the next sockx_poll_mod.  A member appears at most once per wait; when
 * more are ready than n, successive waits report every ready member before
 * any twice.  An event whose member the caller closed since must not be
 * used: identify members by data and free per-member state after the
 * whole batch.  SOCKX_POLL_KEEP is -EINVAL.
 */
int sockx_poll_wait(sockx_poll *p, struct sockx_event *ev, size_t n,
                    int timeout_ms);

/*
 * sockx_poll_wake - make the current or next sockx_poll_wait of p return
 * an event with s and data NULL and events SOCKX_WOKEN; wake-ups before a
 * wait coalesce into one event.  Async-signal-safe, keeps errno, callable
 * from any thread; returns 0 (-EINVAL for a NULL p).
 */
int sockx_poll_wake(sockx_poll *p);

/*
 * sockx_poll_free - remove every member of p and free it; no member is
 * closed (the handles stay the caller's).  NULL is a no-op.  Never while
 * sockx_poll_wake may run: block the signal that calls it first.
 */
void sockx_poll_free(sockx_poll *p);

/* ------------------------------------------------------------------ */
/* Channels: typed messages that carry descriptors (1.1)              */
/* ------------------------------------------------------------------ */

typedef struct sockx_chan sockx_chan;

/*
 * One received message.  data and fds point into the channel and stay
 * valid until the next sockx_chan_recv or sockx_chan_close on it.
 */
struct sockx_msg {
	uint32_t type;		/* the sender's message kind */
	uint32_t id;		/* the sender's request or peer id */
	void *data;		/* len payload bytes, aligned for any type */
	size_t len;
	int *fds;		/* nfds descriptors, close-on-exec */
	size_t nfds;
	uint32_t flags;		/* the header's flags (0 today) */
	uint32_t reserved[3];	/* 0 */
};

#define SOCKX_CHAN_HEADER        16	/* bytes of header per message */
#define SOCKX_CHAN_DEFAULT_MAX   (1024 * 1024)	/* max_len 0 means this */
#define SOCKX_CHAN_TYPE_RESERVED 0xFFFF0000u	/* types from here: library's */

/*
 * sockx_chan_open - make a channel of the connected stream, seqpacket or
 * datagram socket s, which it owns from then on (on failure the caller
 * still owns s).  max_len bounds the payload of one message in either
 * direction: 0 means SOCKX_CHAN_DEFAULT_MAX, more than 2^30 is -EINVAL.
 * A listener or another socket type is -EINVAL; flags must be 0.
 */
int sockx_chan_open(sockx_chan **out, sockx *s, size_t max_len,
                    unsigned flags);

/*
 * sockx_chan_queue - append one message (type, id, len bytes of buf, nfds
 * descriptors of fds) to the output queue; never blocks, never writes.
 * The channel keeps its own duplicates of fds until they are sent.
 * -EMSGSIZE: len > max_len, or (seqpacket, datagram) too long for one
 * packet; -EINVAL: nfds > SOCKX_MAX_FDS, fds NULL with nfds > 0, type at or
 * above SOCKX_CHAN_TYPE_RESERVED; -EBADF: an invalid descriptor;
 * -EOPNOTSUPP: descriptors on a non-unix socket; -ENOBUFS: the queue
 * would pass max(16 MiB, 2 x (16 + max_len)) bytes or 1,024 descriptors.
 * Nothing is queued on any failure.
 */
int sockx_chan_queue(sockx_chan *c, uint32_t type, uint32_t id,
                     const void *buf, size_t len, const int *fds,
                     size_t nfds);

/*
 * sockx_chan_flush - write the output queue within timeout_ms: 0 when all
 * of it is written, -ETIMEDOUT with the rest still queued (nothing is
 * lost or sent twice), or the socket's error.
 */
int sockx_chan_flush(sockx_chan *c, int timeout_ms);

/*
 * sockx_chan_send - flush until the message fits, queue it, flush until
 * it is written, all within timeout_ms.  0: written; -ETIMEDOUT: queued,
 * not yet all written (a later flush or send delivers it); -ENOBUFS: no
 * room came in time, not queued; any other error: not queued.  Arguments
 * as sockx_chan_queue.
 */
int sockx_chan_send(sockx_chan *c, uint32_t type, uint32_t id,
                    const void *buf, size_t len, const int *fds,
                    size_t nfds, int timeout_ms);

/*
 * sockx_chan_recv - the next whole message into *m: returns 1; 0 at end
 * of stream at a message boundary; -ETIMEDOUT when no whole message came
 * in time (what arrived stays buffered).  A message already buffered is
 * returned without a system call.  Ownership: every descriptor still in
 * m->fds is closed by the next sockx_chan_recv or by sockx_chan_close; to
 * keep one, copy m->fds[i] and store -1 in its place.  -EBADMSG: the peer
 * broke the protocol (every whole message before it was delivered); -EMFILE:
 * the kernel dropped descriptors; after either, the receive side is
 * broken: its descriptors are closed and every later call is -EBADMSG.
 */
int sockx_chan_recv(sockx_chan *c, struct sockx_msg *m, int timeout_ms);

/*
 * sockx_chan_events - what to wait for: SOCKX_READABLE, plus
 * SOCKX_WRITABLE while output is queued.  sockx_chan_pending - the bytes
 * queued (0 for NULL).
 */
int sockx_chan_events(const sockx_chan *c);
size_t sockx_chan_pending(const sockx_chan *c);

/*
 * sockx_chan_handle - lend the channel's handle (credentials, addresses,
 * a poll set); never read, write or close it.  NULL (errno EINVAL) for a
 * NULL channel.
 */
sockx *sockx_chan_handle(const sockx_chan *c);

/*
 * sockx_chan_close - close the handle and every descriptor the channel
 * holds, discard output not yet written; the close() result of the
 * handle.  sockx_chan_close(NULL) is a no-op returning 0.
 */
int sockx_chan_close(sockx_chan *c);

#ifdef __cplusplus
}
#endif

#endif /* SOCKX_H */
