"""A fault-injecting HTTP proxy in front of one agent's API.

The controller is told to reach the node at the proxy's port (Cluster's
node.front), so every push, health check and reconciliation request of the
controller to that node passes through here, while the tests still reach
the agent directly. The proxy understands HTTP/1.1 framing (Content-Length,
chunked, keep-alive) so that it can act on whole requests:

- pass       forward every request and its answer unchanged;
- blackhole  read requests and never answer (the client's timeout fires),
             as a silent partition does;
- reset      close every connection with a TCP RST, as a refusing firewall
             or a crashed peer does;
- delay      hold each request 'delay' seconds before forwarding it.

Independently of the mode, for pushes (POST /api/dns/sync-zone, POST
/api/dns/sync-batch, DELETE /api/dns/zones/..., POST /api/dns/delete-batch):

- duplicate "after": once a push was answered, send the same bytes to the
  agent again; "concurrent": send the copy alongside the original;
- reorder: once a push was answered, send an earlier captured push again
  (one for the same zone when there is one): a stale push arriving after a
  newer one.

refuse(method, path, status, count) answers the next 'count' requests of
that method and path (query left out) with 'status' and a JSON error
instead of passing them on: an agent that failed one request. 'seen'
lists (method, path, zones of a push) of every request, in order (the
last 10,000).

Replays go to the agent on their own connection; their answers are kept
in 'replays' as evidence. Every choice the proxy makes comes from its own
random.Random(seed). Threads are daemons; close() shuts every socket."""

import json
import random
import socket
import threading
import time

import harness

MAX_HEAD = 64 * 1024
CAPTURE_MAX = 256


class Closed(Exception):
    """The peer closed the connection (or the proxy closed it)."""


class Reader:
    """Buffered reads of HTTP messages from one socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Closed()
        self.buf += chunk

    def until(self, marker, limit):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out, self.buf = self.buf[:i + len(marker)], self.buf[i + len(marker):]
                return out
            if len(self.buf) > limit:
                raise Closed()
            self._fill()

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self):
        """Everything until the peer closes (a body without framing)."""
        try:
            while True:
                self._fill()
        except Closed:
            pass
        out, self.buf = self.buf, b""
        return out

    def chunked(self):
        """A chunked body, raw (chunk sizes, trailers and all)."""
        raw = b""
        while True:
            line = self.until(b"\r\n", MAX_HEAD)
            raw += line
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:                      # trailers, then the empty line
                    t = self.until(b"\r\n", MAX_HEAD)
                    raw += t
                    if t == b"\r\n":
                        return raw
            raw += self.exact(size + 2)


def parse_head(head):
    lines = head.split(b"\r\n")
    first = lines[0].decode("latin-1")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        k, _, v = line.partition(b":")
        headers[k.strip().decode("latin-1").lower()] = v.strip().decode("latin-1")
    return first, headers


def read_body(reader, headers, allow_until_close):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return reader.chunked(), False
    if "content-length" in headers:
        return reader.exact(int(headers["content-length"])), False
    if allow_until_close:
        return reader.rest(), True
    return b"", False


def read_request(reader):
    """(raw bytes, method, path, headers, body) of the next request."""
    head = reader.until(b"\r\n\r\n", MAX_HEAD)
    first, headers = parse_head(head)
    parts = first.split()
    if len(parts) != 3:
        raise Closed()
    body, _ = read_body(reader, headers, False)
    return head + body, parts[0], parts[1], headers, body


def read_response(reader, method):
    """(raw bytes, status, must close) of the answer to a 'method' request,
    interim 1xx answers included in the bytes."""
    raw = b""
    while True:
        head = reader.until(b"\r\n\r\n", MAX_HEAD)
        first, headers = parse_head(head)
        status = int(first.split()[1])
        raw += head
        if 100 <= status < 200:
            continue
        if method == "HEAD" or status in (204, 304):
            body, closed = b"", False
        else:
            body, closed = read_body(reader, headers, True)
        close = closed or headers.get("connection", "").lower() == "close"
        return raw + body, status, close


def push_zones(method, path, body):
    """The zones a push is about: [] when it is not a push."""
    if method == "DELETE" and path.startswith("/api/dns/zones/"):
        return [path[len("/api/dns/zones/"):].split("?")[0].rstrip(".").lower() + "."]
    if method != "POST" or path.split("?")[0] not in ("/api/dns/sync-zone",
                                                       "/api/dns/sync-batch",
                                                       "/api/dns/delete-batch"):
        return []
    try:
        doc = json.loads(body)
        items = doc["zones"] if "zones" in doc else [doc]
        out = []
        for it in items:
            z = it.get("zone", {})
            name = z if isinstance(z, str) else z.get("domain") or z.get("name") or ""
            out.append(name.rstrip(".").lower() + ".")
        return out or ["?"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return ["?"]


def rst(sock):
    """Close 'sock' with a TCP RST rather than a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class FaultProxy:
    """One proxy on 127.0.0.1:port in front of 127.0.0.1:upstream_port."""

    def __init__(self, upstream_port, seed=0, name="proxy", upstream_timeout=30.0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.name = name
        self.upstream_timeout = upstream_timeout
        self.lock = threading.Lock()
        self.mode = "pass"
        self.delay = 0.0
        self.duplicate = None
        self.reorder = False
        self.rng = random.Random(seed)
        self.captured = []          # (zones, raw) of answered pushes
        self.replays = []           # {"kind", "zones", "status", "answer"}
        self.counts = {"requests": 0, "pushes": 0, "dropped": 0, "reset": 0}
        self.refusals = []          # [method, path, status, count left]
        self.seen = []
        self.conns = set()
        self.closed = False
        self.listener = None
        for _ in range(5):
            port = harness.free_port()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            s.listen(64)
            self.listener, self.port = s, port
            break
        if self.listener is None:
            raise RuntimeError("%s: no free port" % name)
        self.thread = threading.Thread(target=self._accept, name=name, daemon=True)
        self.thread.start()

    # control

    def set(self, mode, delay=0.0):
        """Switch to 'mode'; entering reset closes every open connection."""
        assert mode in ("pass", "blackhole", "reset", "delay"), mode
        with self.lock:
            self.mode, self.delay = mode, delay
            conns = list(self.conns) if mode == "reset" else []
        for c in conns:
            rst(c)

    def refuse(self, method, path, status, count=1):
        with self.lock:
            self.refusals.append([method, path, status, count])

    def _refusal(self, method, path):
        """The status to answer this request with instead, or None (under
        the lock)."""
        for r in self.refusals:
            if r[0] == method and r[1] == path.split("?")[0] and r[3] > 0:
                r[3] -= 1
                return r[2]
        return None

    def heal(self):
        with self.lock:
            self.mode, self.delay = "pass", 0.0
            self.duplicate, self.reorder = None, False

    def reset_state(self):
        """Back to a plain proxy with nothing captured (between seeds);
        refusals not used yet stay."""
        self.heal()
        with self.lock:
            self.captured = []
            self.replays = []
            self.seen = []
            self.counts = dict.fromkeys(self.counts, 0)

    def close(self):
        with self.lock:
            self.closed = True
            conns = list(self.conns)
        try:
            self.listener.close()
        except OSError:
            pass
        for c in conns:
            rst(c)

    # the work

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.mode == "reset" or self.closed:
                    self.counts["reset"] += 1
                    rst(client)
                    continue
                self.conns.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _connect(self):
        s = socket.create_connection(self.upstream, timeout=self.upstream_timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def _serve(self, client):
        reader = Reader(client)
        up = None
        up_reader = None
        try:
            while True:
                raw, method, path, headers, body = read_request(reader)
                zones = push_zones(method, path, body)
                with self.lock:
                    mode, delay = self.mode, self.delay
                    duplicate, reorder = self.duplicate, self.reorder
                    self.counts["requests"] += 1
                    self.seen.append((method, path, zones))
                    del self.seen[:-10000]
                    # a request the proxy drops or resets is not answered
                    refused = (self._refusal(method, path)
                               if mode in ("pass", "delay") else None)
                if mode == "reset":
                    self.counts["reset"] += 1
                    rst(client)
                    return
                if mode == "blackhole":
                    self.counts["dropped"] += 1
                    continue              # never answered; the client gives up
                if mode == "delay" and delay > 0:
                    time.sleep(delay)
                if refused is not None:
                    text = json.dumps({"error": "refused by the test's proxy"}).encode()
                    client.sendall(b"HTTP/1.1 %d Refused\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: %d\r\n\r\n%s"
                                   % (refused, len(text), text))
                    continue
                if zones:
                    self.counts["pushes"] += 1
                if zones and duplicate == "concurrent":
                    self._replay_later("duplicate", zones, raw, 0.0)
                for attempt in (0, 1):
                    try:
                        if up is None:
                            up = self._connect()
                            up_reader = Reader(up)
                        up.sendall(raw)
                        answer, status, close = read_response(up_reader, method)
                        break
                    except (OSError, Closed):
                        if up is not None:
                            up.close()
                        up = None
                        if attempt == 1:
                            rst(client)   # the agent is not there: the client sees a reset
                            return
                client.sendall(answer)
                if close:
                    return
                if zones and status == 200:
                    if duplicate == "after":
                        self._replay_later("duplicate", zones, raw, 0.0)
                    if reorder:
                        self._replay_older(zones)
                    with self.lock:
                        self.captured.append((zones, raw))
                        del self.captured[:-CAPTURE_MAX]
        except (OSError, Closed, ValueError, IndexError):
            pass
        finally:
            with self.lock:
                self.conns.discard(client)
            try:
                client.close()
            except OSError:
                pass
            if up is not None:
                up.close()

    def _replay_older(self, zones):
        with self.lock:
            same = [c for c in self.captured if set(c[0]) & set(zones)]
            pool = same or self.captured
            if not pool:
                return
            old_zones, raw = pool[self.rng.randrange(len(pool))]
        self._replay_later("stale", old_zones, raw, 0.0)

    def _replay_later(self, kind, zones, raw, delay):
        threading.Thread(target=self._replay, args=(kind, zones, raw, delay),
                         daemon=True).start()

    def _replay(self, kind, zones, raw, delay):
        if delay:
            time.sleep(delay)
        method = raw.split(b" ", 1)[0].decode("latin-1")
        entry = {"kind": kind, "zones": zones, "status": None, "answer": None}
        try:
            with self._connect() as s:
                s.sendall(raw)
                answer, status, _ = read_response(Reader(s), method)
            entry["status"] = status
            entry["answer"] = answer.partition(b"\r\n\r\n")[2][:300].decode("utf-8", "replace")
        except (OSError, Closed, ValueError, IndexError) as e:
            entry["answer"] = repr(e)
        with self.lock:
            self.replays.append(entry)
