import FoundationEssentials
import Testing
@testable import OpsCore

/// SigV4 against the AWS test suite and the worked examples in the Amazon S3 API reference.
@Suite struct SigV4S3Tests {
    static let suiteSigner = SigV4(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE",
                                    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    @Test(arguments: sigV4SuiteVectors)
    func awsTestSuite(vector: SigV4Vector) {
        let body = Array(vector.body.utf8)
        let signed = Self.suiteSigner.sign(
            method: vector.method, path: vector.path, query: vector.query, headers: vector.headers,
            payloadHash: SigV4.sha256Hex(body), date: Self.suiteDate, contentHashHeader: vector.signBody)
        #expect(signed.canonicalRequest == vector.canonicalRequest)
        #expect(signed.stringToSign == vector.stringToSign)
        #expect(signed.signature == vector.signature)
        let authorization = signed.headers.first { $0.name == "Authorization" }?.value
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(vector.canonicalRequest.split(separator: "\n").dropLast().last ?? ""), "
            + "Signature=\(vector.signature)")
    }

    // The examples of "Signature Calculations for the Authorization Header" (Amazon S3 API reference).
    static let docSigner = SigV4(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let docDate = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let docHost = (name: "Host", value: "examplebucket.s3.amazonaws.com")

    @Test func s3GetObjectWithRange() {
        let signed = Self.docSigner.sign(
            method: "GET", path: "/test.txt", headers: [Self.docHost, (name: "Range", value: "bytes=0-9")],
            payloadHash: SigV4.emptyPayloadHash, date: Self.docDate)
        #expect(signed.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.headers.map(\.name) == ["x-amz-date", "x-amz-content-sha256", "Authorization"])
    }

    @Test func s3PutObject() {
        let payload = SigV4.sha256Hex(Array("Welcome to Amazon S3.".utf8))
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = Self.docSigner.sign(
            method: "PUT", path: "/test$file.text",
            headers: [(name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"), Self.docHost,
                      (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY")],
            payloadHash: payload, date: Self.docDate)
        #expect(signed.canonicalRequest == """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        #expect(signed.stringToSign.hasPrefix("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func s3GetBucketLifecycleAndListObjects() {
        let lifecycle = Self.docSigner.sign(
            method: "GET", path: "/", query: [(name: "lifecycle", value: "")], headers: [Self.docHost],
            payloadHash: SigV4.emptyPayloadHash, date: Self.docDate)
        #expect(lifecycle.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "lifecycle=")
        #expect(lifecycle.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        let list = Self.docSigner.sign(
            method: "GET", path: "/", query: [(name: "prefix", value: "J"), (name: "max-keys", value: "2")],
            headers: [Self.docHost], payloadHash: SigV4.emptyPayloadHash, date: Self.docDate)
        #expect(list.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        #expect(list.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func keysAreEncodedOnceWithSlashesKept() {
        #expect(SigV4.canonicalURI("/bucket/photos/été 2013/a+b (1)~x_y-z.jpg")
            == "/bucket/photos/%C3%A9t%C3%A9%202013/a%2Bb%20%281%29~x_y-z.jpg")
        #expect(SigV4.canonicalURI("/bucket/already%20encoded") == "/bucket/already%2520encoded")
        #expect(SigV4.canonicalQuery([(name: "continuation-token", value: "a/b+c="), (name: "list-type", value: "2")])
            == "continuation-token=a%2Fb%2Bc%3D&list-type=2")
    }

    /// The suite's post-sts-header-before: a session token is sent as x-amz-security-token, and signed.
    @Test func sessionTokenIsSignedAsSecurityTokenHeader() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        var signer = Self.suiteSigner
        signer.credentials.sessionToken = token
        let signed = signer.sign(method: "POST", path: "/", headers: [(name: "Host", value: "example.amazonaws.com")],
                                 payloadHash: SigV4.emptyPayloadHash, date: Self.suiteDate, contentHashHeader: false)
        #expect(signed.signature == "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
        #expect(signed.headers.contains { $0.name == "x-amz-security-token" && $0.value == token })
        #expect(!"\(signer.credentials)".contains(token))
    }

    @Test func descriptionsHideTheSecretAndSignature() {
        let signed = Self.docSigner.sign(method: "GET", path: "/", headers: [Self.docHost],
                                         payloadHash: SigV4.unsignedPayload, date: Self.docDate)
        #expect(!"\(signed)".contains(signed.signature))
        #expect(!"\(Self.docSigner.credentials)".contains("EXAMPLEKEY"))
        #expect(!signed.headers.contains { $0.name.lowercased().hasPrefix("x-amz-checksum") })
    }
}
