#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver for the tracing test.

Listens on 127.0.0.1 (port 0 unless given), prints its port on the first line of stdout, and for
every POST /v1/traces decodes the body as an ExportTraceServiceRequest with the official
`opentelemetry-proto` package, appending one JSON line per span to the output file: trace and span
ids in hex, the parent span id, name, kind, the resource's service.name, attributes and status.

    otlp_receiver.py OUT.jsonl [PORT]
"""

import gzip
import http.server
import json
import sys
import threading

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

LOCK = threading.Lock()


def any_value(v):
    which = v.WhichOneof("value")
    if which == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, which) if which else None


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


class Handler(http.server.BaseHTTPRequestHandler):
    out_path = None

    def log_message(self, *args):
        pass

    def do_POST(self):
        if self.path != "/v1/traces":
            self.send_error(404, "only /v1/traces")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-protobuf":
            self.send_error(415, "expected application/x-protobuf")
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        lines = []
        for rs in request.resource_spans:
            resource = attributes(rs.resource.attributes)
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    lines.append(
                        json.dumps(
                            {
                                "service": resource.get("service.name"),
                                "scope": ss.scope.name,
                                "trace_id": sp.trace_id.hex(),
                                "span_id": sp.span_id.hex(),
                                "parent_span_id": sp.parent_span_id.hex(),
                                "name": sp.name,
                                "kind": Span.SpanKind.Name(sp.kind),
                                "attributes": attributes(sp.attributes),
                                "status": Status.StatusCode.Name(sp.status.code),
                                "start_unix_nano": sp.start_time_unix_nano,
                                "end_unix_nano": sp.end_time_unix_nano,
                            }
                        )
                    )
        with LOCK, open(self.out_path, "a", encoding="utf-8") as f:
            for line in lines:
                f.write(line + "\n")
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    Handler.out_path = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
