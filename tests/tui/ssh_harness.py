"""Helpers for the end-to-end test: a private sshd on 127.0.0.1 and a private tmux server.

Nothing here touches the machine's own sshd, host keys, ``~/.ssh`` or tmux sessions: every
file (host key, client key, authorized_keys, config, pid file, logs) lives in the test's
``tmp_path``, sshd listens on a free high port of 127.0.0.1 only, and tmux runs on its own socket
(``tmux -L <unique name>``) with an empty config. Both are stopped by ``close()``, which the
test's fixtures call in a finaliser, so a failing test leaves no process behind.

Waiting is always a bounded poll (every ~0.1 s): a timeout fails with what was last seen (the
screen, or sshd's log), never a bare ``sleep``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

POLL = 0.1  # seconds between two looks at the screen / the port
T = TypeVar("T")


class E2EError(AssertionError):
    """A step of the end-to-end run did not happen in time (the message says what was seen)."""


# -- tools ------------------------------------------------------------------------------------


def sshd_path() -> str | None:
    for candidate in (shutil.which("sshd"), "/usr/sbin/sshd", "/usr/local/sbin/sshd"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def unavailable(reason: str) -> None:
    """Skip outside CI; in CI (``CI`` set) FAIL, because a silently skipped end-to-end test
    proves nothing."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


def require_tools() -> dict[str, str]:
    """Paths of sshd, ssh, ssh-keygen and tmux, and root (see :func:`unavailable`)."""
    found = {
        "sshd": sshd_path(),
        "ssh": shutil.which("ssh"),
        "ssh-keygen": shutil.which("ssh-keygen"),
        "tmux": shutil.which("tmux"),
    }
    missing = sorted(name for name, path in found.items() if path is None)
    if missing:
        msg = (
            f"end-to-end SSH test needs {', '.join(missing)} "
            "(Debian: apt-get install -y tmux openssh-server openssh-client)"
        )
        unavailable(msg)
    if os.geteuid() != 0:
        # sshd needs root to switch to the logged-in user and for /run/sshd.
        unavailable("end-to-end SSH test runs sshd and logs in as root: run it as root")
    return {name: str(path) for name, path in found.items()}


def wait_until(
    probe: Callable[[], T | None],
    timeout: float,
    what: str,
    last_seen: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` every POLL seconds until it returns something truthy; return that.

    On timeout raise :class:`E2EError` naming ``what`` and showing ``last_seen()``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            seen = last_seen() if last_seen is not None else ""
            raise E2EError(f"timed out after {timeout:.0f} s waiting for {what}\n{seen}")
        time.sleep(POLL)


def free_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago (the kernel picks it; high and random)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# -- sshd ---------------------------------------------------------------------------------------


@dataclass
class SshServer:
    """A private ``sshd -D -e -f CONFIG`` on 127.0.0.1:PORT that lets root in with one key."""

    tools: dict[str, str]
    home: Path  # a folder in tmp_path for keys, config, pid file and log
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    client_key: Path = field(init=False)
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.client_key = self.home / "client_ed25519"
        self.log_path = self.home / "sshd.log"

    def _keygen(self, path: Path, comment: str) -> None:
        subprocess.run(
            [self.tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def _write_config(self) -> Path:
        host_key = self.home / "ssh_host_ed25519_key"
        lines = [
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {host_key}",
            f"PidFile {self.home / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.home / 'authorized_keys'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "UsePAM no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "LogLevel VERBOSE",
        ]
        config = self.home / "sshd_config"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self, timeout: float = 15.0) -> None:
        """Keys, config, then sshd in the foreground; returns once a real login works."""
        self._keygen(self.home / "ssh_host_ed25519_key", "dedup-tui e2e host")
        self._keygen(self.client_key, "dedup-tui e2e client")
        (self.home / "authorized_keys").write_text(
            Path(f"{self.client_key}.pub").read_text(), encoding="utf-8"
        )
        # Privilege separation dir; a packaged sshd that never ran (no systemd) lacks it.
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        # The port was free a moment ago; if another process took it since, sshd exits at
        # once and we try the next one.
        for _attempt in range(3):
            self.port = free_port()
            config = self._write_config()
            subprocess.run(
                [self.tools["sshd"], "-t", "-f", config],
                check=True,
                capture_output=True,
                timeout=30,
            )
            log = self.log_path.open("ab")
            try:
                self.proc = subprocess.Popen(
                    [self.tools["sshd"], "-D", "-e", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            finally:
                log.close()
            up = wait_until(
                lambda: _port_open(self.port) or self.proc.poll() is not None,
                timeout,
                f"sshd to listen on 127.0.0.1:{self.port}",
                self.log_tail,
            )
            if up and self.proc.poll() is None:
                break
            self.proc = None
        else:
            raise E2EError(f"sshd did not stay up on any port\n{self.log_tail()}")
        self.check_login()

    def check_login(self) -> None:
        """One non-interactive login, so a refused key fails here with sshd's reason."""
        done = subprocess.run(
            [*self.ssh_argv(tty=False), "true"],
            capture_output=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise E2EError(
                f"ssh login to the private sshd failed (exit {done.returncode}): "
                f"{done.stderr.decode(errors='replace').strip()}\n{self.log_tail()}\n"
                "(a locked root account, '!' in /etc/shadow, is refused when UsePAM is no)"
            )

    def ssh_argv(self, *, tty: bool = True) -> list[str]:
        """The client command up to (not including) the remote command."""
        return [
            self.tools["ssh"],
            *(["-t"] if tty else []),
            "-F",
            "/dev/null",  # no ~/.ssh/config, no system ssh_config (no SendEnv either)
            "-p",
            str(self.port),
            "-i",
            str(self.client_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "LogLevel=ERROR",
            "root@127.0.0.1",
        ]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no sshd log)"
        return "--- sshd log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


# -- tmux ---------------------------------------------------------------------------------------


class Tmux:
    """One tmux server on a private socket, one session with one pane that runs a command.

    ``remain-on-exit`` keeps the pane after its command ends, so the test can read the exit
    status and the last screen instead of racing the pane's disappearance.
    """

    def __init__(self, tmux: str, home: Path) -> None:
        self.tmux = tmux
        self.socket = f"dedup-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.session = "e2e"
        home.mkdir(parents=True, exist_ok=True)
        self.conf = home / "tmux.conf"
        self.conf.write_text("set -g remain-on-exit on\nset -g history-limit 0\n")
        self.started = False
        # Extra text for failure messages (e.g. the app's log files), after the screen.
        self.diagnostics: list[Callable[[], str]] = []
        # tmux's own client locale: capture-pane must hand back UTF-8 whatever the CI's locale.
        self.env = {**os.environ, "LC_ALL": "C.UTF-8"}
        self.env.pop("TMUX", None)  # running the tests inside tmux must not change anything

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, "-u", "-L", self.socket, "-f", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=15,
            check=check,
            env=self.env,
        )

    def start(self, argv: Sequence[str], width: int, height: int) -> None:
        self.run(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(width),
            "-y",
            str(height),
            shlex.join(argv),
        )
        self.started = True

    def send(self, *keys: str) -> None:
        """tmux key names: ``j``, ``Space``, ``Enter``, ``Escape``..."""
        self.run("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        done = self.run("capture-pane", "-p", "-t", self.session, check=False)
        return done.stdout if done.returncode == 0 else f"(capture failed: {done.stderr})"

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    def dead(self) -> int | None:
        """The pane command's exit status once it has ended, else None."""
        done = self.run(
            "display-message",
            "-p",
            "-t",
            self.session,
            "#{pane_dead} #{pane_dead_status}",
            check=False,
        )
        if done.returncode != 0:
            return None
        flag, _, status = done.stdout.strip().partition(" ")
        return int(status or 0) if flag == "1" else None

    def check_alive(self, what: str) -> None:
        """Fail at once (not at the timeout) if the session ended while we wait for ``what``."""
        status = self.dead()
        if status is not None:
            raise E2EError(
                f"the ssh session ended (exit status {status}) while waiting for {what}\n"
                + self.framed()
            )

    def framed(self) -> str:
        body = self.screen().rstrip("\n")
        if not body.strip():
            body = "(blank: the app drew nothing on the terminal)"
        extra = "".join(f"\n{d()}" for d in self.diagnostics)
        return f"--- last screen ---\n{body}\n--- end of screen ---{extra}"

    def wait_for(self, text: str | re.Pattern[str], timeout: float = 10.0) -> re.Match[str] | str:
        """Until ``text`` (a string, or a compiled regex) is on screen; returns the match."""

        def probe() -> re.Match[str] | str | None:
            self.check_alive(what)
            shown = self.screen()
            if isinstance(text, re.Pattern):
                return text.search(shown)
            return text if text in shown else None

        what = text.pattern if isinstance(text, re.Pattern) else text
        return wait_until(probe, timeout, f"{what!r} on screen", self.framed)

    def wait_exit(self, timeout: float = 10.0) -> int:
        """Until the pane's command has ended; returns its exit status."""
        status = wait_until(
            lambda: (s,) if (s := self.dead()) is not None else None,
            timeout,
            "the ssh session to end",
            self.framed,
        )
        return status[0]

    def close(self) -> None:
        if self.started:
            self.run("kill-server", check=False)
            self.started = False


# -- files --------------------------------------------------------------------------------------


def tree_digests(root: Path, *, skip: str | None = None) -> dict[str, str]:
    """Relative path -> BLAKE2b of every file under ``root`` (except under ``skip``)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if skip is not None and (rel == skip or rel.startswith(skip + "/")):
            continue
        if p.is_file() and not p.is_symlink():
            out[rel] = hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
    return out


def log_tails(folder: Path, max_chars: int = 800) -> str:
    """The end of every ``*.log`` under ``folder``, escape codes made visible (for failures)."""
    out = []
    for log in sorted(folder.rglob("*.log")) if folder.is_dir() else []:
        text = log.read_text(errors="replace")
        if text:
            tail = text[-max_chars:].replace("\x1b", "\\e")
            out.append(f"--- {log} ({len(text)} chars, tail) ---\n{tail}")
    return "\n".join(out)
