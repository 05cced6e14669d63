// Data copied from the AWS Signature Version 4 test suite as published in awslabs/aws-c-auth,
// tests/aws-signing-test-suite/v4/<name>/ (request.txt, context.json, header-canonical-request.txt,
// header-string-to-sign.txt, header-signature.txt). Credentials AKIDEXAMPLE, region us-east-1, service
// "service", time 2015-08-30T12:36:00Z. Only the data is copied; the parsing is ours.

struct SigV4Vector: Sendable, CustomStringConvertible {
    var name: String
    var method: String
    var path: String
    var query: [(name: String, value: String)]
    var headers: [(name: String, value: String)]
    var body: String
    /// context.json `sign_body`: the suite adds and signs x-amz-content-sha256 only then.
    var signBody: Bool
    var canonicalRequest: String
    var stringToSign: String
    var signature: String
    var description: String { name }
}

let sigV4SuiteVectors: [SigV4Vector] = [
    SigV4Vector(
        name: "get-vanilla", method: "GET", path: "/",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """#,
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    ),
    SigV4Vector(
        name: "get-vanilla-query-order-key-case", method: "GET", path: "/",
        query: [(name: "Param2", value: "value2"), (name: "Param1", value: "value1")],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /
            Param1=value1&Param2=value2
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0
            """#,
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    ),
    SigV4Vector(
        name: "get-vanilla-query", method: "GET", path: "/",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """#,
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    ),
    SigV4Vector(
        name: "get-vanilla-utf8-query", method: "GET", path: "/",
        query: [(name: "ሴ", value: "bar")],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /
            %E1%88%B4=bar
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073
            """#,
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
    ),
    SigV4Vector(
        name: "get-utf8", method: "GET", path: "/ሴ",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /%E1%88%B4
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102
            """#,
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
    ),
    SigV4Vector(
        name: "get-space-unnormalized", method: "GET", path: "/example space/",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /example%20space/
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86
            """#,
        signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"
    ),
    SigV4Vector(
        name: "get-slash-unnormalized", method: "GET", path: "//",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            //
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            80cb39203d058af815de2b79250ff56e1b73eb9b4718c86556cdc6f150c5d209
            """#,
        signature: "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e"
    ),
    SigV4Vector(
        name: "get-slashes-unnormalized", method: "GET", path: "//example//",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            //example//
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            528ec3105ee1f34ab014bb0a1a45da0ed2742a4fea3555149e5b4d5d201eb240
            """#,
        signature: "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"
    ),
    SigV4Vector(
        name: "get-unreserved", method: "GET", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9
            """#,
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
    ),
    SigV4Vector(
        name: "get-header-value-trim", method: "GET", path: "/",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com"), (name: "My-Header1", value: " value1"), (name: "My-Header2", value: " \"a   b   c\"")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /
            
            host:example.amazonaws.com
            my-header1:value1
            my-header2:"a b c"
            x-amz-date:20150830T123600Z
            
            host;my-header1;my-header2;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7
            """#,
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
    ),
    SigV4Vector(
        name: "get-header-key-duplicate", method: "GET", path: "/",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com"), (name: "My-Header1", value: "value2"), (name: "My-Header1", value: "value2"), (name: "My-Header1", value: "value1")],
        body: "", signBody: false,
        canonicalRequest: #"""
            GET
            /
            
            host:example.amazonaws.com
            my-header1:value2,value2,value1
            x-amz-date:20150830T123600Z
            
            host;my-header1;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c
            """#,
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
    ),
    SigV4Vector(
        name: "post-header-key-sort", method: "POST", path: "/",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com"), (name: "My-Header1", value: "value1")],
        body: "", signBody: false,
        canonicalRequest: #"""
            POST
            /
            
            host:example.amazonaws.com
            my-header1:value1
            x-amz-date:20150830T123600Z
            
            host;my-header1;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65
            """#,
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"
    ),
    SigV4Vector(
        name: "post-vanilla", method: "POST", path: "/",
        query: [],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            POST
            /
            
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87
            """#,
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    ),
    SigV4Vector(
        name: "post-vanilla-query", method: "POST", path: "/",
        query: [(name: "Param1", value: "value1")],
        headers: [(name: "Host", value: "example.amazonaws.com")],
        body: "", signBody: false,
        canonicalRequest: #"""
            POST
            /
            Param1=value1
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            
            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd
            """#,
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
    ),
    SigV4Vector(
        name: "post-x-www-form-urlencoded", method: "POST", path: "/",
        query: [],
        headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded"), (name: "Host", value: "example.amazonaws.com"), (name: "Content-Length", value: "13")],
        body: "Param1=value1", signBody: true,
        canonicalRequest: #"""
            POST
            /
            
            content-length:13
            content-type:application/x-www-form-urlencoded
            host:example.amazonaws.com
            x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
            x-amz-date:20150830T123600Z
            
            content-length;content-type;host;x-amz-content-sha256;x-amz-date
            9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
            """#,
        stringToSign: #"""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb
            """#,
        signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"
    ),
]
