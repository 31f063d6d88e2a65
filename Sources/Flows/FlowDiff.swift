import DataTree

/// The edges added and removed between two observation sets, for reviews ("what did this
/// release start talking to?"). Edges are compared by identity — client, server, port,
/// transport — whatever their counts and times; `unchanged` edges carry the after counts.
///
/// Deterministic: every list is sorted.
public struct FlowDiff: Sendable {
    public var added: [ResolvedEdge]
    public var removed: [ResolvedEdge]
    public var unchanged: [ResolvedEdge]
    /// Identities of the after edges the policies in force would deny (empty without policies).
    public var wouldDeny: Set<ResolvedEdge>

    public init(before: [ResolvedEdge], after: [ResolvedEdge], wouldDeny: Set<ResolvedEdge> = []) {
        let beforeIDs = Set(before.map(\.identity)), afterIDs = Set(after.map(\.identity))
        added = after.filter { !beforeIDs.contains($0.identity) }.sorted()
        removed = before.filter { !afterIDs.contains($0.identity) }.sorted()
        unchanged = after.filter { beforeIDs.contains($0.identity) }.sorted()
        self.wouldDeny = Set(wouldDeny.map(\.identity))
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty }

    func denied(_ edge: ResolvedEdge) -> Bool { wouldDeny.contains(edge.identity) }

    public var text: String {
        var lines = ["netwatch flows diff: \(added.count) edge(s) added, \(removed.count) removed, \(unchanged.count) unchanged"
            + (wouldDeny.isEmpty ? "" : "; \(added.filter(denied).count + unchanged.filter(denied).count) the policies would deny")]
        for edge in added { lines.append("+ \(edge.summary) (\(edge.flows) flow(s))\(denied(edge) ? " — the policies would deny it" : "")") }
        for edge in removed { lines.append("- \(edge.summary) (\(edge.flows) flow(s) before)") }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: [UInt8] {
        func entries(_ edges: [ResolvedEdge]) -> Node {
            .sequence(edges.map { edge in
                var entry = PolicyCheckFormat.edge(edge)
                if !wouldDeny.isEmpty { entry["wouldDeny"] = .bool(denied(edge)) }
                return .mapping(entry)
            })
        }
        let document: Node = [
            "summary": ["added": .int(added.count), "removed": .int(removed.count), "unchanged": .int(unchanged.count)],
            "added": entries(added), "removed": entries(removed),
        ]
        var bytes = JSONEmitter(style: .pretty).emit(document)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        return bytes
    }

    /// The after graph with the removed edges: added green, removed grey and dashed, unchanged
    /// black; an edge the policies would deny is red (and dashed), whichever it is.
    public func dot(windowMinutes: Double) -> String {
        let added = Set(self.added.map(\.identity)), removed = Set(self.removed.map(\.identity))
        return ServiceGraph.dot(self.added + unchanged + self.removed, windowMinutes: windowMinutes) { edge in
            if denied(edge) { return ", color=red, fontcolor=red, style=dashed, xlabel=\"would deny\"" }
            if added.contains(edge.identity) { return ", color=green3, fontcolor=green4, penwidth=2" }
            if removed.contains(edge.identity) { return ", color=grey60, fontcolor=grey50, style=dashed" }
            return ""
        }
    }
}
