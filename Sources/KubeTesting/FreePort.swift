import Glibc

/// A TCP port on 127.0.0.1 that is free right now, for tests that start servers which cannot
/// report their own port (Prometheus, node_exporter).
///
/// It is picked below the kernel's ephemeral range (which starts at 32768 by default), so the
/// client connections of concurrently running tests cannot take it between this check and the
/// server's bind, and it is checked by binding it.
public func freeLoopbackPort() -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<32_000)
        if canBind(port) { return port }
    }
    return Int.random(in: 20_000..<32_000)
}

private func canBind(_ port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
    } == 0
}
