import DataTree

/// A status condition in the Kubernetes convention (type, status, reason, message,
/// lastTransitionTime), the transition time kept from the previous conditions unless the
/// status changes, so an unchanged object yields an identical status and no write.
enum Condition {
    static func make(_ type: String, _ ok: Bool, reason: String, message: String, previous: [Node], now: String) -> Node {
        let status = ok ? "True" : "False"
        let old = previous.first { $0["type"]?.string == type }
        let since = old?["status"]?.string == status ? old?["lastTransitionTime"] ?? .string(now) : .string(now)
        return ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message), "lastTransitionTime": since]
    }
}
