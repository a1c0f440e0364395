"""A WebSocket server that is not LiveKit, for tests: prints its port, accepts one
connection, completes the handshake, then either sends binary garbage ("garbage") or
closes the socket at once ("close"). Loopback only; exits after one client."""
import base64, hashlib, os, socket, sys

mode = sys.argv[1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
srv.settimeout(60)
conn, _ = srv.accept()
req = b""
while b"\r\n\r\n" not in req:
    chunk = conn.recv(4096)
    if not chunk:
        sys.exit(0)
    req += chunk
key = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")][0]
accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
if mode == "garbage":
    payload = bytes([0xff, 0xff, 0xff, 0xff, 0x0f]) + os.urandom(40)
    conn.sendall(bytes([0x82, len(payload)]) + payload)
    conn.recv(4096)
conn.close()
