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

def pod_group(pod):
    """buildPod: (group labels, [target labels]) or None when the pod has no podIP."""
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    ip = status.get("podIP", "")
    if not ip:
        return None
    ready = "unknown"
    for condition in status.get("conditions", []):
        if condition.get("type") == "Ready":
            ready = str(condition.get("status", "")).lower()
            break
    group = {
        "__meta_kubernetes_pod_name": meta.get("name", ""),
        "__meta_kubernetes_pod_ip": ip,
        "__meta_kubernetes_pod_ready": ready,
        "__meta_kubernetes_pod_phase": status.get("phase", ""),
        "__meta_kubernetes_pod_node_name": spec.get("nodeName", ""),
        "__meta_kubernetes_pod_host_ip": status.get("hostIP", ""),
        "__meta_kubernetes_pod_uid": meta.get("uid", ""),
    }
    for ref in meta.get("ownerReferences", []):
        if ref.get("controller") is True:
            if ref.get("kind"):
                group["__meta_kubernetes_pod_controller_kind"] = ref["kind"]
            if ref.get("name"):
                group["__meta_kubernetes_pod_controller_name"] = ref["name"]
            break
    # Go ranges over the map; with two keys sanitising alike the winner is random there. The
    # fixture avoids such collisions, so iteration order does not matter here.
    for key, value in (meta.get("labels") or {}).items():
        group["__meta_kubernetes_pod_label_" + sanitize(key)] = value
        group["__meta_kubernetes_pod_labelpresent_" + sanitize(key)] = "true"
    for key, value in (meta.get("annotations") or {}).items():
        group["__meta_kubernetes_pod_annotation_" + sanitize(key)] = value
        group["__meta_kubernetes_pod_annotationpresent_" + sanitize(key)] = "true"
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


def discover_pods(pods, sd_config):
    """role: pod over the namespaces of `sd_config` (empty or absent names: all)."""
    names = (sd_config.get("namespaces") or {}).get("names") or []
    out = []
    for pod in pods:
        if names and pod["metadata"].get("namespace", "default") not in names:
            continue
        built = pod_group(pod)
        if built is None:
            continue
        group, targets = built
        for target in targets:
            labels = dict(group)
            labels.update(target)  # a target label wins over a group label
            out.append(labels)
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
        regex = compile_regex(rule["regex"] if "regex" in raw else DEFAULTS["regex"])
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
