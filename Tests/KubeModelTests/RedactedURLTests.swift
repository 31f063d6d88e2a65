import KubeModel
import Testing

@Suite("URLs as printed")
struct RedactedURLTests {
    @Test("user info and credential-like query values are hidden; everything else is kept", arguments: [
        ("http://admin:secret@prometheus:9090/-/reload", "http://***@prometheus:9090/-/reload"),
        ("https://token@host/path?a=1&access_token=xyz&Password=p#frag", "https://***@host/path?a=1&access_token=***&Password=***#frag"),
        ("http://prometheus.monitoring:9090/-/reload", "http://prometheus.monitoring:9090/-/reload"),
        ("http://host/p@th?x", "http://host/p@th?x"),
        ("http://u:p@[::1]:9090/?apikey=k&q=up", "http://***@[::1]:9090/?apikey=***&q=up"),
        ("not a url", "not a url"),
    ])
    func redaction(_ pair: (String, String)) {
        #expect(RedactedURL.redacted(pair.0) == pair.1)
    }
}
