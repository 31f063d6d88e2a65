"""An independent model of Prometheus's Kubernetes pod discovery, relabelling and target
finalisation, written from Prometheus's source -- not from netwatch's -- so netwatch's output
can be checked against it:

- discovery/kubernetes/pod.go (buildPod, podLabels, podReady, GetControllerOf),
  util/strutil/strconv.go (SanitizeLabelName), discovery/kubernetes/kubernetes.go (namespaces);
- model/relabel/relabel.go (relabel: every action, Go regexp anchoring and Expand);
- scrape/target.go (targetsFromGroup, PopulateLabels) of v2.42.0, the Debian oracle that
  check-sd-fidelity also runs for real (including its default-port rule, removed in 3.0).

Label sets are plain dicts. `labels.Builder.Set(name, "")` deletes and `Builder.Reset` drops
empty values (model/labels/labels.go), and both are modelled.
"""
import hashlib
import ipaddress
import re


def sanitize(name):
    """SanitizeLabelName: every rune outside [a-zA-Z0-9_] becomes one underscore."""
    return "".join(c if (c.isascii() and (c.isalnum() or c == "_")) else "_" for c in name)


def join_host_port(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- discovery/kubernetes/pod.go ---------------------------------------------------------

def pod_labels(pod):
    """podLabels: name, IP, ready, phase, node, host IP, uid, controller, labels, annotations."""
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    ready = "unknown"
    for condition in status.get("conditions", []):
        if condition.get("type") == "Ready":
            ready = str(condition.get("status", "")).lower()
            break
    labels = {
        "__meta_kubernetes_pod_name": meta.get("name", ""),
        "__meta_kubernetes_pod_ip": status.get("podIP", ""),
        "__meta_kubernetes_pod_ready": ready,
        "__meta_kubernetes_pod_phase": status.get("phase", ""),
        "__meta_kubernetes_pod_node_name": spec.get("nodeName", ""),
        "__meta_kubernetes_pod_host_ip": status.get("hostIP", ""),
        "__meta_kubernetes_pod_uid": meta.get("uid", ""),
    }
    for ref in meta.get("ownerReferences", []):  # GetControllerOf: the first controller
        if ref.get("controller") is True:
            if ref.get("kind"):
                labels["__meta_kubernetes_pod_controller_kind"] = ref["kind"]
            if ref.get("name"):
                labels["__meta_kubernetes_pod_controller_name"] = ref["name"]
            break
    # Go ranges over the map; with two keys sanitising alike the winner is random there. The
    # fixture avoids such collisions, so iteration order does not matter here.
    labels.update(object_labels(meta, "pod"))
    return labels


def pod_group(pod):
    """buildPod: (group labels, [target labels]) or None when the pod has no podIP."""
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    ip = status.get("podIP", "")
    if not ip:
        return None
    group = pod_labels(pod)
    group["__meta_kubernetes_namespace"] = meta.get("namespace", "default")

    targets = []
    containers = [(c, False) for c in spec.get("containers", [])] + [(c, True) for c in spec.get("initContainers", [])]
    for container, is_init in containers:
        statuses = status.get("initContainerStatuses" if is_init else "containerStatuses", [])
        container_id = next((s.get("containerID", "") for s in statuses if s.get("name") == container["name"]), "")
        common = {
            "__meta_kubernetes_pod_container_name": container["name"],
            "__meta_kubernetes_pod_container_id": container_id,
            "__meta_kubernetes_pod_container_image": container.get("image", ""),
            "__meta_kubernetes_pod_container_init": "true" if is_init else "false",
        }
        if not container.get("ports"):
            targets.append(dict(common, __address__=ip))
            continue
        for port in container["ports"]:
            number = str(port["containerPort"])
            targets.append(dict(
                common,
                __address__=join_host_port(ip, number),
                __meta_kubernetes_pod_container_port_number=number,
                __meta_kubernetes_pod_container_port_name=port.get("name", ""),
                __meta_kubernetes_pod_container_port_protocol=port.get("protocol", "TCP"),
            ))
    return group, targets


def object_labels(meta, role):
    """addObjectAnnotationsAndLabels for one role."""
    labels = {}
    for key, value in (meta.get("labels") or {}).items():
        labels[f"__meta_kubernetes_{role}_label_" + sanitize(key)] = value
        labels[f"__meta_kubernetes_{role}_labelpresent_" + sanitize(key)] = "true"
    for key, value in (meta.get("annotations") or {}).items():
        labels[f"__meta_kubernetes_{role}_annotation_" + sanitize(key)] = value
        labels[f"__meta_kubernetes_{role}_annotationpresent_" + sanitize(key)] = "true"
    return labels


# --- discovery/kubernetes/endpointslice.go (3.x) ------------------------------------------

def endpointslice_group(eps, services, pods):
    """buildEndpointSlice: (group labels, [target labels])."""
    meta = eps["metadata"]
    namespace = meta.get("namespace", "default")
    group = {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_endpointslice_address_type": eps.get("addressType", ""),
        "__meta_kubernetes_endpointslice_name": meta["name"],
    }
    group.update(object_labels(meta, "endpointslice"))
    service_name = (meta.get("labels") or {}).get("kubernetes.io/service-name")
    service = services.get((namespace, service_name)) if service_name is not None else None
    if service is not None:
        group["__meta_kubernetes_namespace"] = service["metadata"].get("namespace", "default")
        group["__meta_kubernetes_service_name"] = service["metadata"]["name"]
        group.update(object_labels(service["metadata"], "service"))
    targets = []
    seen = {}  # pod key -> (pod, [ports])
    for ep in eps.get("endpoints", []):
        for port in eps.get("ports", []):
            for address in ep.get("addresses", []):
                number = port.get("port")
                target = {"__address__": join_host_port(address, number) if number is not None else address}
                prefix = "__meta_kubernetes_endpointslice_"
                if port.get("name") is not None:
                    target[prefix + "port_name"] = port["name"]
                if port.get("protocol") is not None:
                    target[prefix + "port_protocol"] = port["protocol"]
                if number is not None:
                    target[prefix + "port"] = str(number)
                if port.get("appProtocol") is not None:
                    target[prefix + "port_app_protocol"] = port["appProtocol"]
                conditions = ep.get("conditions") or {}
                for name in ("ready", "serving", "terminating"):
                    if conditions.get(name) is not None:
                        target[prefix + "endpoint_conditions_" + name] = "true" if conditions[name] else "false"
                if ep.get("hostname") is not None:
                    target[prefix + "endpoint_hostname"] = ep["hostname"]
                ref = ep.get("targetRef")
                if ref is not None:
                    target[prefix + "address_target_kind"] = ref.get("kind", "")
                    target[prefix + "address_target_name"] = ref.get("name", "")
                if ep.get("nodeName") is not None:
                    target[prefix + "endpoint_node_name"] = ep["nodeName"]
                if ep.get("zone") is not None:
                    target[prefix + "endpoint_zone"] = ep["zone"]
                pod = None
                if ref is not None and ref.get("kind") == "Pod":
                    pod = pods.get((ref.get("namespace", ""), ref.get("name", "")))
                if pod is None:
                    targets.append(target)
                    continue
                key = (pod["metadata"].get("namespace", "default"), pod["metadata"]["name"])
                seen.setdefault(key, (pod, []))[1].append(number)
                target.update(pod_labels(pod))
                spec = pod.get("spec", {})
                containers = [(c, False) for c in spec.get("containers", [])] + [(c, True) for c in spec.get("initContainers", [])]
                for container, is_init in containers:
                    for cport in container.get("ports", []):
                        if number is None:
                            continue
                        if number == cport["containerPort"]:
                            target["__meta_kubernetes_pod_container_name"] = container["name"]
                            target["__meta_kubernetes_pod_container_image"] = container.get("image", "")
                            target["__meta_kubernetes_pod_container_port_name"] = cport.get("name", "")
                            target["__meta_kubernetes_pod_container_port_number"] = str(number)
                            target["__meta_kubernetes_pod_container_port_protocol"] = cport.get("protocol", "TCP")
                            target["__meta_kubernetes_pod_container_init"] = "true" if is_init else "false"
                            break  # out of this container's ports only, as in Go
                targets.append(target)
    targets += extra_container_targets(seen)
    return group, targets


def discover_endpointslices(slices, services, pods, sd_config):
    """role: endpointslice over the namespaces of `sd_config` and its role selectors; Services
    and Pods are looked up in informers restricted the same way."""
    service_index = selected(services, sd_config, "service")
    pod_index = selected(pods, sd_config, "pod")
    out = []
    for eps in selected(slices, sd_config, "endpointslice").values():
        group, targets = endpointslice_group(eps, service_index, pod_index)
        out += [dict(group, **target) for target in targets]
    return out


# --- discovery/kubernetes/endpoints.go (3.x) ----------------------------------------------

def endpoints_group(eps, services, pods):
    """buildEndpoints: (group labels, [target labels])."""
    meta = eps["metadata"]
    namespace = meta.get("namespace", "default")
    group = {"__meta_kubernetes_namespace": namespace}
    service = services.get((namespace, meta["name"]))
    if service is not None:
        group["__meta_kubernetes_service_name"] = service["metadata"]["name"]
        group.update(object_labels(service["metadata"], "service"))
    group["__meta_kubernetes_endpoints_name"] = meta["name"]
    group.update(object_labels(meta, "endpoints"))
    targets = []
    seen = {}
    def add(address, port, ready):
        target = {
            "__address__": join_host_port(address["ip"], port["port"]),
            "__meta_kubernetes_endpoint_port_name": port.get("name", ""),
            "__meta_kubernetes_endpoint_port_protocol": port.get("protocol", "TCP"),
            "__meta_kubernetes_endpoint_ready": ready,
        }
        ref = address.get("targetRef")
        if ref is not None:
            target["__meta_kubernetes_endpoint_address_target_kind"] = ref.get("kind", "")
            target["__meta_kubernetes_endpoint_address_target_name"] = ref.get("name", "")
        if address.get("nodeName") is not None:
            target["__meta_kubernetes_endpoint_node_name"] = address["nodeName"]
        if address.get("hostname"):
            target["__meta_kubernetes_endpoint_hostname"] = address["hostname"]
        pod = pods.get((ref.get("namespace", ""), ref.get("name", ""))) if ref is not None and ref.get("kind") == "Pod" else None
        if pod is None:
            targets.append(target)
            return
        key = (pod["metadata"].get("namespace", "default"), pod["metadata"]["name"])
        seen.setdefault(key, (pod, []))[1].append(port["port"])
        target.update(pod_labels(pod))
        for container, is_init in containers_of(pod):
            for cport in container.get("ports", []):
                if port["port"] != cport["containerPort"]:
                    continue
                target["__meta_kubernetes_pod_container_name"] = container["name"]
                target["__meta_kubernetes_pod_container_image"] = container.get("image", "")
                target["__meta_kubernetes_pod_container_port_name"] = cport.get("name", "")
                target["__meta_kubernetes_pod_container_port_number"] = str(port["port"])
                target["__meta_kubernetes_pod_container_port_protocol"] = port.get("protocol", "TCP")
                target["__meta_kubernetes_pod_container_init"] = "true" if is_init else "false"
                break  # out of this container's ports only, as in Go
        targets.append(target)
    for subset in eps.get("subsets", []):
        for port in subset.get("ports", []):
            for address in subset.get("addresses", []):
                add(address, port, "true")
            for address in subset.get("notReadyAddresses", []):
                add(address, port, "false")
    targets += extra_container_targets(seen)
    return group, targets


def containers_of(pod):
    spec = pod.get("spec", {})
    return [(c, False) for c in spec.get("containers", [])] + [(c, True) for c in spec.get("initContainers", [])]


def extra_container_targets(seen):
    """The seenPods pass of both endpoint roles: container ports no endpoint port covered."""
    out = []
    for pod, ports in seen.values():
        ip = pod.get("status", {}).get("podIP", "")
        if not ip:
            continue
        for container, is_init in containers_of(pod):
            for cport in container.get("ports", []):
                if any(p is not None and p == cport["containerPort"] for p in ports):
                    continue
                target = {
                    "__address__": join_host_port(ip, cport["containerPort"]),
                    "__meta_kubernetes_pod_container_name": container["name"],
                    "__meta_kubernetes_pod_container_image": container.get("image", ""),
                    "__meta_kubernetes_pod_container_port_name": cport.get("name", ""),
                    "__meta_kubernetes_pod_container_port_number": str(cport["containerPort"]),
                    "__meta_kubernetes_pod_container_port_protocol": cport.get("protocol", "TCP"),
                    "__meta_kubernetes_pod_container_init": "true" if is_init else "false",
                }
                target.update(pod_labels(pod))
                out.append(target)
    return out


def parse_selector(text):
    """labels.Parse for the forms LabelSelector.String() writes: k=v, k==v, k!=v,
    k in (a,b), k notin (a,b), k, !k; requirements separated by commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for c in text:
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += c == "("
        depth -= c == ")"
        current += c
    if current:
        parts.append(current)
    requirements = []
    for part in (p.strip() for p in parts):
        if " notin " in part or " in " in part:
            key, _, values = part.partition(" notin " if " notin " in part else " in ")
            values = {v.strip() for v in values.strip()[1:-1].split(",")}
            requirements.append((key.strip(), "notin" if " notin " in part else "in", values))
        elif "!=" in part:
            key, value = part.split("!=", 1)
            requirements.append((key, "notin", {value}))
        elif "=" in part:
            key, value = part.replace("==", "=").split("=", 1)
            requirements.append((key, "in", {value}))
        elif part.startswith("!"):
            requirements.append((part[1:], "absent", None))
        else:
            requirements.append((part, "exists", None))
    def matches(labels):
        for key, op, values in requirements:
            present = key in labels
            if op == "in" and not (present and labels[key] in values):
                return False
            if op == "notin" and present and labels[key] in values:
                return False
            if op == "exists" and not present:
                return False
            if op == "absent" and present:
                return False
        return True
    return matches


def selected(objects, sd_config, role):
    """Objects of one role passing the namespaces and that role's `selectors` (label only)."""
    names = (sd_config.get("namespaces") or {}).get("names") or []
    tests = [parse_selector(s["label"]) for s in sd_config.get("selectors") or [] if s["role"] == role and s.get("label")]
    assert all(not s.get("field") for s in sd_config.get("selectors") or []), "field selectors are not modelled"
    out = {}
    for o in objects:
        namespace = o["metadata"].get("namespace", "default")
        if names and namespace not in names:
            continue
        if all(test(o["metadata"].get("labels") or {}) for test in tests):
            out[(namespace, o["metadata"]["name"])] = o
    return out


def discover_endpoints(endpoints, services, pods, sd_config):
    """role: endpoints, with the informers' namespaces and role selectors."""
    service_index = selected(services, sd_config, "service")
    pod_index = selected(pods, sd_config, "pod")
    out = []
    for eps in selected(endpoints, sd_config, "endpoints").values():
        group, targets = endpoints_group(eps, service_index, pod_index)
        out += [dict(group, **target) for target in targets]
    return out


def discover_pods(pods, sd_config):
    """role: pod over the namespaces of `sd_config` (empty or absent names: all) and its pod
    role selectors."""
    out = []
    for pod in selected(pods, sd_config, "pod").values():
        built = pod_group(pod)
        if built is None:
            continue
        group, targets = built
        out += [dict(group, **target) for target in targets]  # a target label wins over a group label
    return out


# --- discovery/kubernetes/node.go (3.x) ---------------------------------------------------

NODE_ADDRESS_PRIORITY = ["InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"]


def node_group(node):
    """buildNode: (group labels, [target]) -- no target without an address. The kubelet's
    address (nodeAddress priority) joined with its port; `instance` is the node's name; each
    address type's first address; group: provider ID, conditions (lower-cased), metadata."""
    meta, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    group = {"__meta_kubernetes_node_provider_id": spec.get("providerID", "")}
    for condition in status.get("conditions") or []:
        group["__meta_kubernetes_node_condition_" + sanitize(condition["type"].lower())] = condition["status"].lower()
    group["__meta_kubernetes_node_name"] = meta["name"]
    group.update(object_labels(meta, "node"))
    by_type = {}
    for address in status.get("addresses") or []:
        by_type.setdefault(address["type"], []).append(address["address"])
    host = next((by_type[t][0] for t in NODE_ADDRESS_PRIORITY if t in by_type), None)
    if host is None:
        return group, []
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port", 0)
    target = {"__address__": join_host_port(host, port), "instance": meta["name"]}
    for kind, addresses in by_type.items():
        target["__meta_kubernetes_node_address_" + sanitize(kind)] = addresses[0]
    return group, [target]


def discover_nodes(nodes, sd_config):
    """role: node (cluster-wide; namespaces do not apply) with its node role selectors."""
    out = []
    for node in selected(nodes, {"selectors": sd_config.get("selectors")}, "node").values():
        group, targets = node_group(node)
        out += [dict(group, **target) for target in targets]
    return out


# --- discovery/kubernetes/ingress.go -----------------------------------------------------

def matches_hostname_pattern(pattern, host):
    """matchesHostnamePattern: equal, or `*.` with as many labels and the rest equal."""
    if pattern == host:
        return True
    pattern_parts, host_parts = pattern.split("."), host.split(".")
    if not pattern_parts or pattern_parts[0] != "*" or len(pattern_parts) != len(host_parts):
        return False
    return pattern_parts[1:] == host_parts[1:]


def ingress_group(ingress):
    """buildIngress (networking.k8s.io/v1 adaptor): (group labels, [target labels]), one target
    per rule x path; a rule without http is the path "/", an empty path is "/"."""
    meta, spec = ingress["metadata"], ingress.get("spec") or {}
    group = {"__meta_kubernetes_ingress_name": meta["name"], "__meta_kubernetes_namespace": meta.get("namespace", "default")}
    if spec.get("ingressClassName") is not None:
        group["__meta_kubernetes_ingress_class_name"] = spec["ingressClassName"]
    group.update(object_labels(meta, "ingress"))
    tls_hosts = [host for tls in spec.get("tls") or [] for host in tls.get("hosts") or []]
    targets = []
    for rule in spec.get("rules") or []:
        host = rule.get("host", "")
        http = rule.get("http")
        paths = ["/"] if http is None else [(p.get("path") or "/") for p in http.get("paths") or []]
        scheme = "https" if any(matches_hostname_pattern(pattern, host) for pattern in tls_hosts) else "http"
        for path in paths:
            targets.append({"__address__": host, "__meta_kubernetes_ingress_scheme": scheme,
                            "__meta_kubernetes_ingress_host": host, "__meta_kubernetes_ingress_path": path})
    return group, targets


def discover_ingresses(ingresses, sd_config):
    """role: ingress over the namespaces of `sd_config` and its ingress role selectors."""
    out = []
    for ingress in selected(ingresses, sd_config, "ingress").values():
        group, targets = ingress_group(ingress)
        out += [dict(group, **target) for target in targets]
    return out


# --- model/relabel/relabel.go ------------------------------------------------------------

DEFAULTS = {"separator": ";", "regex": "(.*)", "replacement": "$1", "action": "replace"}
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Anchored:
    """NewRegexp: "^(?s:" + re + ")$", anchored at both ends (Go's $ is the end of the text,
    so Python's fullmatch, not $). Python's re agrees with RE2 on what the fixture uses."""

    def __init__(self, text):
        self.regex = re.compile("(?s:" + text + ")")

    def match(self, value):
        return self.regex.fullmatch(value)


def compile_regex(text):
    return Anchored(text)


def expand(template, match):
    """Go's Regexp.Expand: $1 ${1} $name ${name}, $$ is a literal $; an unbraced name is the
    longest run of [A-Za-z0-9_]; unknown or unmatched groups expand to ""."""
    out = []
    i = 0
    while i < len(template):
        c = template[i]
        if c != "$" or i + 1 == len(template):
            out.append(c)
            i += 1
            continue
        if template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if template[i + 1] == "{":
            end = template.find("}", i + 2)
            name = template[i + 2:end] if end != -1 else ""
            if end == -1 or not re.fullmatch(r"[A-Za-z0-9_]+", name):
                out.append(c)  # not a valid reference: Go writes the $ literally
                i += 1
                continue
            i = end + 1
        else:
            run = re.match(r"[A-Za-z0-9_]+", template[i + 1:])
            if not run:
                out.append(c)
                i += 1
                continue
            name = run.group(0)
            i += 1 + len(name)
        out.append(group_value(match, name))
    return "".join(out)


def group_value(match, name):
    if name.isdigit():
        index = int(name)
        if index <= match.re.groups:
            return match.group(index) or ""
        return ""
    try:
        return match.group(name) or ""
    except IndexError:
        return ""


def builder_set(labels, name, value):
    if value == "":
        labels.pop(name, None)
    else:
        labels[name] = value


def relabel(labels, rules):
    """relabel.Process: the labels after every rule, or None when a rule drops the target."""
    labels = dict(labels)
    for raw in rules:
        rule = dict(DEFAULTS, **{k: v for k, v in raw.items() if v is not None})
        action = rule["action"].lower()
        regex = compile_regex(str(rule["regex"]) if "regex" in raw else DEFAULTS["regex"])
        value = rule["separator"].join(labels.get(name, "") for name in rule.get("source_labels", []))
        target = rule.get("target_label", "")
        if action == "drop":
            if regex.match(value):
                return None
        elif action == "keep":
            if not regex.match(value):
                return None
        elif action == "dropequal":
            if labels.get(target, "") == value:
                return None
        elif action == "keepequal":
            if labels.get(target, "") != value:
                return None
        elif action == "replace":
            match = regex.match(value)
            if match is None:
                continue
            name = expand(target, match)
            if not LABEL_NAME.match(name):
                labels.pop(target, None)  # 2.42 deletes the unexpanded target label
                continue
            result = expand(str(rule["replacement"]), match)
            if result == "":
                labels.pop(target, None)
                continue
            labels[name] = result
        elif action == "lowercase":
            builder_set(labels, target, value.lower())
        elif action == "uppercase":
            builder_set(labels, target, value.upper())
        elif action == "hashmod":
            digest = hashlib.md5(value.encode()).digest()
            builder_set(labels, target, str(int.from_bytes(digest[8:16], "big") % int(rule["modulus"])))
        elif action == "labelmap":
            for name, label_value in sorted(labels.items()):
                match = regex.match(name)
                if match:
                    builder_set(labels, expand(str(rule["replacement"]), match), label_value)
        elif action == "labeldrop":
            for name in [n for n in labels if regex.match(n)]:
                del labels[name]
        elif action == "labelkeep":
            for name in [n for n in labels if not regex.match(n)]:
                del labels[name]
        else:
            raise ValueError(f"unknown action {action}")
    return labels


# --- scrape/target.go (v2.42.0) -----------------------------------------------------------

def populate(discovered, job, global_config):
    """PopulateLabels: the final target labels (names not starting with __), None when
    dropped, or ('error', message)."""
    labels = dict(discovered)
    scrape_labels = {
        "job": job["job_name"],
        "__scrape_interval__": job.get("scrape_interval", global_config.get("scrape_interval", "1m")),
        "__scrape_timeout__": job.get("scrape_timeout", global_config.get("scrape_timeout", "10s")),
        "__metrics_path__": job.get("metrics_path", "/metrics"),
        "__scheme__": job.get("scheme", "http"),
    }
    for name, value in scrape_labels.items():
        if labels.get(name, "") == "":
            labels[name] = value
    for key, values in (job.get("params") or {}).items():
        if values:
            labels["__param_" + key] = values[0]  # 2.42 overwrites
    # labels.NewBuilder -> Reset deletes every empty value before relabelling starts.
    labels = {k: v for k, v in labels.items() if v != ""}
    result = relabel(labels, job.get("relabel_configs") or [])
    if result is None:
        return None
    address = result.get("__address__", "")
    if not address:
        return ("error", "no address")
    if not has_port(address):
        scheme = result.get("__scheme__", "")
        address += {"http": ":80", "": ":80", "https": ":443"}.get(scheme, "")
        result["__address__"] = address
    if "/" in address:
        return ("error", "address contains a slash")
    final = {k: v for k, v in result.items() if not k.startswith("__meta_")}
    if final.get("instance", "") == "":
        final["instance"] = address
    return {k: v for k, v in final.items() if not k.startswith("__") and v != ""}


def has_port(address):
    if address.startswith("["):
        return "]:" in address
    if address.count(":") == 1:
        return True
    if address.count(":") > 1:
        try:
            ipaddress.ip_address(address)
            return False  # a bare IPv6 address
        except ValueError:
            return False
    return False
