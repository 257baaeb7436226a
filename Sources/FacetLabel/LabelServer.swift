import FacetCore
import FacetData
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `facet label --serve`: the labelling app on a local port. Safe by default, like Jupyter:
/// bound to 127.0.0.1 unless told otherwise; a random token in the URL it prints, required on
/// every request (then kept in a cookie); the `Host` header checked against the address served
/// (DNS rebinding); changes only by POST carrying the token in a header; photos served by record
/// id only, from files inside the dump; every asset embedded (`LabelPage`).
public struct LabelServer: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        /// 0: a free port.
        public var port = 0
        /// The token; random unless given (tests).
        public var token: String?
        public init() {}
    }

    let app: LabelApp
    let options: Options
    public let token: String

    public init(app: LabelApp, options: Options) {
        self.app = app
        self.options = options
        token = options.token ?? LabelServer.randomToken()
    }

    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    /// Serves until cancelled; `started` gets the URL to open (with the token) once listening.
    public func run(started: @escaping @Sendable (String) -> Void) async throws {
        let router = Router()
        let portBox = PortBox()
        router.add(middleware: Guard(token: token, port: portBox))
        let app = self.app
        let page = LabelPage.html.replacingOccurrences(of: "__TOKEN__", with: token)
        router.get("/") { _, _ in Self.html(page) }
        router.get("/api/state") { _, _ in try Self.json(app.state()) }
        router.get("/thumb/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let bytes = app.thumbnail(id) else { throw HTTPError(.notFound, message: "no photo \(id)") }
            return Self.bytes(bytes, type: "image/jpeg")
        }
        router.get("/photo/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let (bytes, type) = app.photo(id) else { throw HTTPError(.notFound, message: "no photo \(id)") }
            return Self.bytes(bytes, type: type)
        }
        router.post("/api/label") { request, context in
            let body = try await request.decode(as: LabelApp.LabelRequest.self, context: context)
            return try Self.answer { try app.label(body) }
        }
        router.post("/api/condition") { request, context in
            let body = try await request.decode(as: LabelApp.ConditionRequest.self, context: context)
            return try Self.answer { try app.condition(body) }
        }
        router.post("/api/undo") { _, _ in try Self.answer { try app.undo() } }
        router.post("/api/redo") { _, _ in try Self.answer { try app.redo() } }
        let host = options.host, token = token
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: options.port), serverName: "facet"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                portBox.set(host: host, port: port)
                started("http://\(host.contains(":") ? "[\(host)]" : host):\(port)/?token=\(token)")
            },
            logger: {
                var l = Logger(label: "facet-label")
                l.logLevel = .error
                return l
            }())
        try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    static func html(_ s: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    static func bytes(_ b: [UInt8], type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "private, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: b)))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(try encoder.encode(value)))))
    }

    /// The app's answer to a change, or 409 with the reason it was refused.
    static func answer(_ f: () throws -> LabelApp.Update) throws -> Response {
        do { return try json(try f()) } catch let r as LabelBook.Refusal {
            return try json(["error": r.description], status: .conflict)
        }
    }
}

/// The Host headers accepted, known once the port is bound (a free one when 0 was asked for).
final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var hosts: Set<String> = []
    /// `host` (the address served), 127.0.0.1, localhost and [::1], each with `port`.
    func set(host: String, port: Int) {
        let allowed = Set([host, "127.0.0.1", "localhost", "[::1]"].map { "\($0):\(port)" })
        lock.withLock { hosts = allowed }
    }
    var allowed: Set<String> { lock.withLock { hosts } }
}

/// Every request: the Host header names the address served; the token comes in the query (then
/// a cookie is set) or the cookie; a POST also carries it in `X-Facet-Token`.
struct Guard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String
    let port: PortBox

    static let cookie = "facet_token"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authority = request.head.authority, port.allowed.contains(authority.lowercased()) else {
            return Self.refuse(.forbidden, "the Host header names another site (DNS rebinding is refused)")
        }
        let fromQuery = request.uri.queryParameters["token"].map(String.init)
        let fromCookie = request.cookies[Self.cookie]?.value
        guard Self.same(fromQuery, token) || Self.same(fromCookie, token) else {
            return Self.refuse(.forbidden, "no token: open the URL that facet label --serve printed")
        }
        if request.method == .post {
            guard Self.same(request.headers.first { $0.name.canonicalName == "x-facet-token" }?.value, token) else {
                return Self.refuse(.forbidden, "a change needs the X-Facet-Token header")
            }
        } else if request.method != .get && request.method != .head {
            return Self.refuse(.methodNotAllowed, "only GET and POST")
        }
        var response = try await next(request, context)
        if Self.same(fromQuery, token) && !Self.same(fromCookie, token) {
            response.setCookie(Cookie(name: Self.cookie, value: token, path: "/", httpOnly: true, sameSite: .strict))
        }
        return response
    }

    /// Compared in constant time.
    static func same(_ a: String?, _ b: String) -> Bool {
        guard let a, a.utf8.count == b.utf8.count else { return false }
        return zip(a.utf8, b.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func refuse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}
