#!/usr/bin/python3
"""Small real targets for health-check tests, run as separate processes
(inside a namespace with Netns.popen):

  targets.py tcp HOST PORT            accept connections and close them
  targets.py http HOST PORT STATUSFILE  answer GET with the status (and body) in STATUSFILE
  targets.py silent HOST PORT          accept connections and never answer

Each prints "ready" on stdout once it listens, so tests wait for that line
instead of sleeping.
"""
import http.server
import socket
import sys


def listen(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(128)
    return s


def main():
    kind, host, port = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "http":
        status_file = sys.argv[4]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with open(status_file) as f:
                    status, _, body = f.read().partition(" ")
                data = body.encode()
                self.send_response(int(status))
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        server = http.server.HTTPServer((host, int(port)), Handler)
        print("ready", flush=True)
        server.serve_forever()
    s = listen(host, port)
    print("ready", flush=True)
    held = []
    while True:
        c, _ = s.accept()
        if kind == "silent":
            held.append(c)  # accepted, never answered
        else:
            c.close()


if __name__ == "__main__":
    main()
