public import KubeClient
public import Logging

extension KubeClient {
    /// A client for `configuration` over libcurl, with the configuration's TLS settings.
    public convenience init(configuration: KubeConfiguration, logger: Logger) throws {
        let transport = try CurlTransport(options: CurlTransport.Options(tls: configuration.tls), logger: logger)
        self.init(configuration: configuration, transport: transport, logger: logger)
    }
}
