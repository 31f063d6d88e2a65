public import DataTree
import Foundation

/// A pod as a real cluster holds it (~4 KB of JSON): managedFields, volumes, env, probes,
/// tolerations, five conditions, two containers and their statuses. Pods come in ReplicaSets
/// of 5 that share what their pod template gives them — namespace, labels, annotations,
/// containers and images — and their owner, as they do in a cluster, so interning and decoding
/// are measured on realistic repetition. Deterministic in `index`.
public func realisticPod(_ index: Int) -> Node {
    // Pods come in ReplicaSets of 5: replicas share the owner and everything their template
    // sets, as they do in a real cluster; name, uid, addresses and container IDs (64 hex digits,
    // one per container, as container runtimes make them) are their own.
    let replicaSet = index / 5
    let namespace = "team-\(replicaSet % 1000)"
    let app = ["web", "api", "cart", "ledger", "search"][replicaSet % 5]
    let hash = String(replicaSet &* 2_654_435_761 % 0xFFFFFF, radix: 16)
    let ownerUID = String(format: "%08x-0000-4000-9000-%012x", replicaSet, replicaSet)
    let name = "\(app)-\(hash)-\(String(index, radix: 36))"
    let ip = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
    let uid = String(format: "%08x-0000-4000-8000-%012x", index, index)
    let time = "2026-11-20T10:\(String(format: "%02d", replicaSet % 60)):00Z"
    let fields: Node = ["f:metadata": ["f:generateName": [:], "f:labels": ["f:app": [:], "f:pod-template-hash": [:], "f:team": [:], "f:tier": [:], "f:version": [:]], "f:ownerReferences": ["k:{\"uid\":\"\(ownerUID)\"}": [:]]],
                        "f:spec": ["f:containers": ["k:{\"name\":\"app\"}": ["f:image": [:], "f:name": [:], "f:ports": [:], "f:resources": [:]], "k:{\"name\":\"exporter\"}": ["f:image": [:]]], "f:dnsPolicy": [:], "f:restartPolicy": [:], "f:schedulerName": [:]]]
    let statusFields: Node = ["f:status": ["f:conditions": [:], "f:containerStatuses": [:], "f:hostIP": [:], "f:phase": [:], "f:podIP": [:], "f:podIPs": [:], "f:startTime": [:]]]
    let container: Node = [
        "name": "app", "image": .string("registry.example.com/\(app):1.\(replicaSet % 40).3"),
        "ports": [["name": "http", "containerPort": 8080, "protocol": "TCP"], ["name": "metrics", "containerPort": 9090, "protocol": "TCP"]],
        "env": [["name": "APP_ENV", "value": "production"], ["name": "POD_NAME", "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.name"]]]],
        "resources": ["requests": ["cpu": "100m", "memory": "128Mi"], "limits": ["cpu": "1", "memory": "512Mi"]],
        "volumeMounts": [["name": "kube-api-access-x7q2k", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true]],
        "livenessProbe": ["httpGet": ["path": "/healthz", "port": 8080, "scheme": "HTTP"], "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
    ]
    let exporter: Node = ["name": "exporter", "image": "quay.io/prometheus/node-exporter:v1.8.2", "ports": [["name": "nw-exporter", "containerPort": 9532, "protocol": "TCP"]], "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]]]
    let containerStatus: (String) -> Node = { container in
        ["name": .string(container), "ready": true, "restartCount": 0, "started": true, "image": "registry.example.com/app:1",
         "imageID": "registry.example.com/app@sha256:4b9a7c1e2f0d3a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3",
         "containerID": .string("containerd://" + containerID(pod: index, container: container)), "state": ["running": ["startedAt": .string(time)]], "lastState": [:]]
    }
    return [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": [
            "name": .string(name), "generateName": .string("\(app)-\(hash)-"), "namespace": .string(namespace), "uid": .string(uid),
            "creationTimestamp": .string(time),
            "labels": ["app": .string(app), "pod-template-hash": .string(hash), "team": .string("team-\(replicaSet % 97)"), "tier": replicaSet % 3 == 0 ? "frontend" : "backend", "version": "v1"],
            "annotations": ["prometheus.io/scrape": "true", "prometheus.io/port": "9090", "kubectl.kubernetes.io/restartedAt": .string(time)],
            "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string("\(app)-\(hash)"), "uid": .string(ownerUID), "controller": true, "blockOwnerDeletion": true]],
            "managedFields": [
                ["manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields],
                ["manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": statusFields, "subresource": "status"],
            ],
        ],
        "spec": [
            "volumes": [["name": "kube-api-access-x7q2k", "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]], ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]]]]]],
            "containers": [container, exporter],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
            "nodeName": .string("node-\(index % 200)"), "securityContext": [:], "schedulerName": "default-scheduler", "priority": 0,
            "tolerations": [["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
                            ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]],
            "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
        ],
        "status": [
            "phase": "Running",
            "conditions": .sequence(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map { ["type": .string($0), "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(time)] }),
            "hostIP": .string("192.0.2.\(index % 200)"), "hostIPs": [["ip": .string("192.0.2.\(index % 200)")]],
            "podIP": .string(ip), "podIPs": [["ip": .string(ip)]], "startTime": .string(time),
            "containerStatuses": [containerStatus("app"), containerStatus("exporter")], "qosClass": "Burstable",
        ],
    ]
}

/// A container runtime's id for a container of pod `index`: 64 lowercase hex digits (a
/// SHA-256 in a real runtime), deterministic and distinct per pod and container.
func containerID(pod index: Int, container: String) -> String {
    var state = UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: container.utf8.reduce(0) { $0 &* 31 &+ Int($1) })
    var digits = ""
    for _ in 0..<4 {
        // splitmix64
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        let word = String(mixed, radix: 16)
        digits += String(repeating: "0", count: 16 - word.count) + word
    }
    return digits
}
