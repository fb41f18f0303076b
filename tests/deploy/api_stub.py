#!/usr/bin/env python3
"""A stand-in for a Kubernetes API server's discovery, so that `kubectl apply --dry-run=client` can map the kinds of
docker/k8s/ to resources without a cluster: it lists the core and apps groups and answers 404 for every object
(nothing exists yet, so kubectl's dry run "creates" each). Listens on 127.0.0.1, prints its port, serves until
killed. Nothing is stored and nothing is validated here: kubectl's own client-side checks do that."""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

RESOURCES = {
    "/api/v1": ("v1", [("services", "Service"), ("configmaps", "ConfigMap"), ("secrets", "Secret"),
                       ("persistentvolumeclaims", "PersistentVolumeClaim"), ("namespaces", "Namespace")]),
    "/apis/apps/v1": ("apps/v1", [("statefulsets", "StatefulSet"), ("deployments", "Deployment")]),
}


def resource_list(group_version, resources):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": name, "singularName": name[:-1], "namespaced": kind != "Namespace", "kind": kind,
                           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                          for name, kind in resources]}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api":
            return self.answer(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if path == "/apis":
            return self.answer(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]})
        if path in RESOURCES:
            return self.answer(200, resource_list(*RESOURCES[path]))
        if path == "/version":
            return self.answer(200, {"major": "1", "minor": "28", "gitVersion": "v1.28.0-stub"})
        self.answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                          "code": 404, "message": path + " not found"})


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
sys.stdout.close()
server.serve_forever()
