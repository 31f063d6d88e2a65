import CCurl
import Testing

@Suite("CCurl system library")
struct CCurlLinkTests {
    @Test("links against the system libcurl, which speaks TLS and HTTP/2")
    func linksAndReportsFeatures() throws {
        let info = try #require(ccurl_version_info())
        let version = String(cString: info.pointee.version)
        #expect(version.split(separator: ".").count == 3)
        #expect(info.pointee.features & CURL_VERSION_SSL != 0)
        #expect(info.pointee.ssl_version != nil)
    }

    @Test("typed shims reach curl_easy_setopt")
    func typedShimsWork() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, 1000) == CURLE_OK)
        #expect(ccurl_easy_setopt_string(handle, CURLOPT_URL, "http://127.0.0.1:1/") == CURLE_OK)
    }
}
