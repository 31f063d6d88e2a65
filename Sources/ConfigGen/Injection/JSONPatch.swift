public import DataTree

/// RFC 6902 JSON patches computed by diffing two documents, as an admission webhook returns
/// them and kustomize applies them.
///
/// Guarantees: applying `diff(from, to)` to `from` gives `to` (checked against PyPI `jsonpatch`
/// in tests); keys are escaped per RFC 6901 (`~` → `~0`, `/` → `~1`); a missing map or array is
/// created whole with one `add` rather than appended to; elements inserted into or removed from
/// one place of an existing array are `add`ed or `remove`d at their indices, in order; arrays of
/// equal length are diffed element by element; otherwise a changed array is replaced. Mapping keys
/// are visited in the order of `to`, then removals in the order of `from`, so the same inputs
/// always give the same patch.
public enum JSONPatch {
    public static func diff(from original: Node, to mutated: Node) -> [Node] {
        var operations: [Node] = []
        diff(original, mutated, path: "", into: &operations)
        return operations
    }

    /// RFC 6901: `~` becomes `~0`, `/` becomes `~1`.
    public static func escape(_ key: String) -> String {
        var out = ""
        for character in key {
            switch character {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.append(character)
            }
        }
        return out
    }

    static func diff(_ original: Node, _ mutated: Node, path: String, into operations: inout [Node]) {
        guard original != mutated else { return }
        switch (original, mutated) {
        case (.mapping(let old), .mapping(let new)):
            for entry in new {
                let child = path + "/" + escape(entry.key)
                if let previous = old[entry.key] {
                    diff(previous, entry.value, path: child, into: &operations)
                } else {
                    operations.append(["op": "add", "path": .string(child), "value": entry.value])
                }
            }
            for entry in old where new[entry.key] == nil {
                operations.append(["op": "remove", "path": .string(path + "/" + escape(entry.key))])
            }
        case (.sequence(let old), .sequence(let new)) where new.count != old.count:
            // Elements inserted or removed in one place (a sidecar put first, an old one taken
            // out) become adds or removes at their indices; anything else replaces the array.
            var prefix = 0
            while prefix < min(old.count, new.count), old[prefix] == new[prefix] { prefix += 1 }
            var suffix = 0
            while suffix < min(old.count, new.count) - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
            if prefix + suffix == old.count {
                for index in prefix..<(new.count - suffix) {
                    operations.append(["op": "add", "path": .string("\(path)/\(index)"), "value": new[index]])
                }
            } else if prefix + suffix == new.count {
                for _ in prefix..<(old.count - suffix) {
                    operations.append(["op": "remove", "path": .string("\(path)/\(prefix)")])
                }
            } else {
                operations.append(["op": "replace", "path": .string(path), "value": mutated])
            }
        case (.sequence(let old), .sequence(let new)) where new.count == old.count:
            for index in old.indices { diff(old[index], new[index], path: "\(path)/\(index)", into: &operations) }
        default:
            operations.append(["op": "replace", "path": .string(path), "value": mutated])
        }
    }
}
