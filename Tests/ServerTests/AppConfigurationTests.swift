import Testing

@testable import Server

@Suite struct AppConfigurationTests {
    @Test(arguments: [
        ("1048576", Int64(1_048_576)),
        ("512M", Int64(512) << 20),
        ("2g", Int64(2) << 30),
        ("100k", Int64(100) << 10),
        (" 1T ", Int64(1) << 40),
    ])
    func sizesAreReadInBinaryMultiples(text: String, bytes: Int64) {
        #expect(AppConfiguration.parseSize(text) == bytes)
    }

    @Test(arguments: ["", "M", "0", "-5M", "12Q", "1.5G", "99999999999T"])
    func nonsenseSizesAreRefused(text: String) {
        #expect(AppConfiguration.parseSize(text) == nil)
    }
}
