"""A private MariaDB server for the integration tests.

    from mariadb import MariaDB

    db = MariaDB("/tmp/x/mariadb").start()
    settings = db.create_database("yumna_agent")
    # {"host": "127.0.0.1", "port": 41234, "socket": ".../mysqld.sock",
    #  "user": "yumna_agent", "password": "...", "dbname": "yumna_agent"}
    db.query("SHOW TABLES", database="yumna_agent")
    db.restart()    # same data and port; clients lose their connections
    db.stop()

The server never touches the system's MariaDB: it reads no option file
(--no-defaults), keeps its data, socket, pid file and log under its own
directory and listens on 127.0.0.1 on a port chosen at run time. root has a
random password set by an init file before the first connection is
accepted, and each database gets its own user with a random password.
Statements go through PyMySQL (python3-pymysql) over the unix socket.
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import time

import pymysql

from harness import free_port

MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"

_IDENT = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class MariaDBError(Exception):
    """The server could not be set up, started or reached."""


class MariaDB:
    """One mariadbd on a private data directory under 'directory'."""

    def __init__(self, directory, port=None):
        self.directory = os.path.abspath(str(directory))
        self.datadir = os.path.join(self.directory, "data")
        self.socket = os.path.join(self.directory, "mysqld.sock")
        self.pid_file = os.path.join(self.directory, "mysqld.pid")
        self.log_path = os.path.join(self.directory, "mariadb.log")
        self.init_file = os.path.join(self.directory, "init.sql")
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.root_password = secrets.token_hex(16)
        self.proc = None
        if len(self.socket) > 100:
            raise MariaDBError("socket path too long for a unix socket: %s" % self.socket)

    # --- processes ---------------------------------------------------------

    def _user_args(self):
        # mariadbd refuses to run as root unless told to.
        return ["--user=root"] if os.geteuid() == 0 else []

    def install(self):
        """Create the system tables in an empty data directory."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)
        if os.path.isdir(os.path.join(self.datadir, "mysql")):
            return
        cmd = [INSTALL_DB, "--no-defaults", "--datadir=" + self.datadir,
               "--auth-root-authentication-method=normal", "--skip-test-db",
               "--skip-name-resolve"] + self._user_args()
        with open(self.log_path, "ab") as log:
            rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                cwd=self.directory, timeout=120).returncode
        if rc != 0:
            raise MariaDBError("mariadb-install-db failed (%d)\n%s" % (rc, self.logs()))

    def start(self, timeout=60.0):
        """Install if needed, start mariadbd and wait until root can connect."""
        if self.proc is not None and self.proc.poll() is None:
            raise MariaDBError("mariadbd already running")
        if not os.access(MARIADBD, os.X_OK):
            raise MariaDBError("mariadbd not found (install mariadb-server-core)")
        self.install()
        fd = os.open(self.init_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\n" % self.root_password)
        cmd = [MARIADBD, "--no-defaults",
               "--datadir=" + self.datadir,
               "--socket=" + self.socket,
               "--pid-file=" + self.pid_file,
               "--log-error=" + self.log_path,
               "--init-file=" + self.init_file,
               "--port=%d" % self.port,
               "--bind-address=" + self.host,
               "--skip-networking=0",
               "--skip-name-resolve",
               "--performance-schema=OFF",
               "--innodb-buffer-pool-size=128M",
               "--max-connections=200"] + self._user_args()
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         cwd=self.directory, start_new_session=True,
                                         close_fds=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise MariaDBError("mariadbd exited with %s\n%s"
                                   % (self.proc.returncode, self.logs()))
            try:
                self.connect().close()
                return self
            except pymysql.err.MySQLError as e:
                last = e
            time.sleep(0.1)
        self.stop()
        raise MariaDBError("mariadbd did not accept connections within %.0f s (%s)\n%s"
                           % (timeout, last, self.logs()))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30.0):
        """Shut the server down (SIGTERM, then SIGKILL); the data stays."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down=0.0, timeout=60.0):
        """Stop the server and start it again on the same data directory and
        port, 'down' seconds later: every client connection is lost."""
        self.stop()
        time.sleep(down)
        return self.start(timeout=timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def logs(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError as e:
            text = ["(%s)" % e]
        return "\n".join(["----- mariadb %s (last %d lines) -----" % (self.log_path, lines)]
                         + text[-lines:])

    # --- SQL -----------------------------------------------------------------

    def connect(self, database=None, user="root", password=None, **kw):
        """A PyMySQL connection over the unix socket (root by default)."""
        return pymysql.connect(unix_socket=self.socket, user=user,
                               password=self.root_password if password is None else password,
                               database=database, autocommit=True, connect_timeout=5,
                               charset="utf8mb4", **kw)

    def query(self, sql, args=None, database=None):
        """Run one statement as root; returns its rows as a list of tuples."""
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def create_database(self, name, user=None):
        """Create database 'name' and a user that may do anything in it, from
        127.0.0.1 and over the socket. Returns the connection settings:
        host, port, socket, user, password, dbname."""
        user = user or name
        for ident in (name, user):
            if not _IDENT.match(ident):
                raise ValueError("not a plain identifier: %r" % ident)
        password = secrets.token_hex(16)
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE `%s` CHARACTER SET utf8mb4" % name)
                for host in ("127.0.0.1", "localhost"):
                    cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
                    cur.execute("GRANT ALL PRIVILEGES ON `%s`.* TO %%s@%%s" % name,
                                (user, host))
        finally:
            conn.close()
        return {"host": self.host, "port": self.port, "socket": self.socket,
                "user": user, "password": password, "dbname": name}

    def kill_connections(self, user):
        """KILL every connection of 'user' (as the server does to a client
        idle beyond wait_timeout); returns how many were killed."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM information_schema.processlist WHERE user = %s",
                            (user,))
                ids = [row[0] for row in cur.fetchall()]
                for i in ids:
                    try:
                        cur.execute("KILL CONNECTION %d" % int(i))
                    except pymysql.err.OperationalError:
                        pass  # gone meanwhile
        finally:
            conn.close()
        return len(ids)

    def drop_database(self, name):
        if not _IDENT.match(name):
            raise ValueError("not a plain identifier: %r" % name)
        self.query("DROP DATABASE IF EXISTS `%s`" % name)

    def __repr__(self):
        return "MariaDB(%s, %s:%d)" % (self.directory, self.host, self.port)
