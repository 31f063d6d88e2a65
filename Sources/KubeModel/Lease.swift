/// A `coordination.k8s.io/v1` Lease: what leader election reads.
public struct Lease: Sendable, Hashable, Decodable {
    public struct Spec: Sendable, Hashable, Decodable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        public var acquireTime: String?
        public var renewTime: String?
        public var leaseTransitions: Int?
    }

    public var metadata: ObjectMeta
    public var spec: Spec
}
