// The engine comparison of issue 19: simdjson's On-Demand API reading the fields netwatch's Pod
// projection reads from the same list pages ClientBenchmark decodes (one page per line of the
// input, written by `ClientBenchmark pages N FILE`), copying each kept string into a
// std::string as the Swift decoder makes a String. Prints MB/s per core, median of 5 runs.
// Not part of the build: hack/simdjson-probe compiles and runs it (Debian's libsimdjson-dev).
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using namespace simdjson;

struct Port { std::string name; int64_t number = 0; std::string protocol; };
struct Container { std::string name, image, restartPolicy; std::vector<Port> ports; };
struct Status { std::string name, containerID; };
struct Owner { std::string kind, name, uid; bool controller = false; };
struct Pod {
    std::string name, ns, uid, resourceVersion, creationTimestamp, deletionTimestamp;
    std::map<std::string, std::string> labels, annotations;
    std::vector<Owner> owners;
    std::vector<Container> containers, initContainers;
    std::string nodeName, serviceAccountName, phase, podIP, hostIP, ready;
    bool hostNetwork = false;
    std::vector<std::string> podIPs;
    std::vector<Status> statuses, initStatuses;
};

static std::string text(ondemand::value value) {
    std::string_view view;
    if (value.get_string().get(view)) return {};
    return std::string(view);
}

static void stringMap(ondemand::value value, std::map<std::string, std::string>& into) {
    ondemand::object object;
    if (value.get_object().get(object)) return;
    for (auto field : object) {
        std::string_view key = field.unescaped_key();
        into.emplace(std::string(key), text(field.value()));
    }
}

static std::vector<Container> containers(ondemand::value value) {
    std::vector<Container> result;
    ondemand::array array;
    if (value.get_array().get(array)) return result;
    for (auto element : array) {
        Container container;
        for (auto field : element.get_object()) {
            std::string_view key = field.unescaped_key();
            if (key == "name") container.name = text(field.value());
            else if (key == "image") container.image = text(field.value());
            else if (key == "restartPolicy") container.restartPolicy = text(field.value());
            else if (key == "ports") {
                for (auto port : field.value().get_array()) {
                    Port entry;
                    for (auto member : port.get_object()) {
                        std::string_view name = member.unescaped_key();
                        if (name == "name") entry.name = text(member.value());
                        else if (name == "containerPort") entry.number = member.value().get_int64();
                        else if (name == "protocol") entry.protocol = text(member.value());
                    }
                    container.ports.push_back(std::move(entry));
                }
            }
        }
        result.push_back(std::move(container));
    }
    return result;
}

static std::vector<Status> statuses(ondemand::value value) {
    std::vector<Status> result;
    for (auto element : value.get_array()) {
        Status status;
        for (auto field : element.get_object()) {
            std::string_view key = field.unescaped_key();
            if (key == "name") status.name = text(field.value());
            else if (key == "containerID") status.containerID = text(field.value());
        }
        result.push_back(std::move(status));
    }
    return result;
}

static Pod pod(ondemand::object object) {
    Pod pod;
    for (auto part : object) {
        std::string_view section = part.unescaped_key();
        if (section == "metadata") {
            for (auto field : part.value().get_object()) {
                std::string_view key = field.unescaped_key();
                if (key == "name") pod.name = text(field.value());
                else if (key == "namespace") pod.ns = text(field.value());
                else if (key == "uid") pod.uid = text(field.value());
                else if (key == "resourceVersion") pod.resourceVersion = text(field.value());
                else if (key == "creationTimestamp") pod.creationTimestamp = text(field.value());
                else if (key == "deletionTimestamp") pod.deletionTimestamp = text(field.value());
                else if (key == "labels") stringMap(field.value(), pod.labels);
                else if (key == "annotations") stringMap(field.value(), pod.annotations);
                else if (key == "ownerReferences") {
                    for (auto reference : field.value().get_array()) {
                        Owner owner;
                        for (auto member : reference.get_object()) {
                            std::string_view name = member.unescaped_key();
                            if (name == "kind") owner.kind = text(member.value());
                            else if (name == "name") owner.name = text(member.value());
                            else if (name == "uid") owner.uid = text(member.value());
                            else if (name == "controller") owner.controller = member.value().get_bool();
                        }
                        pod.owners.push_back(std::move(owner));
                    }
                }
            }
        } else if (section == "spec") {
            for (auto field : part.value().get_object()) {
                std::string_view key = field.unescaped_key();
                if (key == "containers") pod.containers = containers(field.value());
                else if (key == "initContainers") pod.initContainers = containers(field.value());
                else if (key == "nodeName") pod.nodeName = text(field.value());
                else if (key == "serviceAccountName") pod.serviceAccountName = text(field.value());
                else if (key == "hostNetwork") pod.hostNetwork = field.value().get_bool();
            }
        } else if (section == "status") {
            for (auto field : part.value().get_object()) {
                std::string_view key = field.unescaped_key();
                if (key == "phase") pod.phase = text(field.value());
                else if (key == "podIP") pod.podIP = text(field.value());
                else if (key == "hostIP") pod.hostIP = text(field.value());
                else if (key == "podIPs") {
                    for (auto address : field.value().get_array()) pod.podIPs.push_back(text(address.get_object()["ip"]));
                } else if (key == "conditions") {
                    for (auto condition : field.value().get_array()) {
                        std::string type, status;
                        for (auto member : condition.get_object()) {
                            std::string_view name = member.unescaped_key();
                            if (name == "type") type = text(member.value());
                            else if (name == "status") status = text(member.value());
                        }
                        if (type == "Ready" && pod.ready.empty()) pod.ready = status;
                    }
                } else if (key == "containerStatuses") pod.statuses = statuses(field.value());
                else if (key == "initContainerStatuses") pod.initStatuses = statuses(field.value());
            }
        }
    }
    return pod;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PAGES.jsonl\n", argv[0]);
        return 2;
    }
    std::ifstream input(argv[1]);
    std::vector<padded_string> pages;
    size_t bytes = 0;
    for (std::string line; std::getline(input, line);) {
        bytes += line.size();
        pages.emplace_back(line);
    }
    ondemand::parser parser;
    std::vector<double> runs;
    size_t pods = 0;
    for (int run = 0; run < 5; ++run) {
        std::vector<Pod> decoded;
        auto started = std::chrono::steady_clock::now();
        for (auto& page : pages) {
            ondemand::document document = parser.iterate(page);
            for (auto item : document["items"].get_array()) decoded.push_back(pod(item.get_object()));
        }
        runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        pods = decoded.size();
    }
    std::sort(runs.begin(), runs.end());
    std::printf("simdjson %d.%d.%d On-Demand (%s kernel), %zu pods in %zu pages (%.0f MB): median %.3f s, %.0f MB/s per core\n",
                SIMDJSON_VERSION_MAJOR, SIMDJSON_VERSION_MINOR, SIMDJSON_VERSION_REVISION, simdjson::get_active_implementation()->name().c_str(), pods, pages.size(), bytes / 1e6, runs[2], bytes / 1e6 / runs[2]);
    return 0;
}
