import Foundation

extension ReportedEvidence {
    /// The evidence a report keeps of one probe: libcurl's result, the answers with their selected headers, the certificate.
    init(_ evidence: ProbeEvidence, _ classification: Classification) {
        func reported(_ head: ResponseHead, phase: String) -> ReportedResponse {
            var headers: [String: String] = [:]
            for name in ReportedEvidence.selectedHeaders {
                let values = head.values(name)
                if !values.isEmpty { headers[name] = values.joined(separator: ", ") }
            }
            return ReportedResponse(phase: phase, status: head.status, statusLine: head.statusLine, headers: headers)
        }
        let proxyGenerated = classification.answeredBy != nil && classification.verdict != .allowed
        self.init(curlCode: evidence.curlCode, curlMessage: evidence.curlMessage,
                  connectStatus: evidence.connectStatus == 0 ? nil : evidence.connectStatus,
                  httpStatus: evidence.httpStatus == 0 ? nil : evidence.httpStatus,
                  responses: evidence.connectResponses.map { reported($0, phase: "connect") } + evidence.responses.map { reported($0, phase: "response") },
                  proxyError: classification.proxyError, authChallenged: classification.authChallenged,
                  authSchemes: classification.authSchemes, intercepted: classification.intercepted,
                  allowedByPolicyOnly: classification.allowedByPolicyOnly, certificate: evidence.certificate,
                  verifyResult: evidence.verifyResult, proxyPage: proxyGenerated ? Self.pageTitle(evidence.bodySnippet) : nil,
                  generatedBy: Self.generator(evidence.bodySnippet),
                  via: (evidence.connectResponses + evidence.responses).last.map { Self.viaPseudonyms($0.values("via")) } ?? [],
                  answeredBy: classification.answeredBy, product: classification.product, signature: classification.signature,
                  proxyReply: evidence.proxyReply == 0 ? nil : evidence.proxyReply, proxyVerifyResult: evidence.proxyVerifyResult)
        tlsVersion = evidence.tlsVersion
        tlsCipher = evidence.tlsCipher
    }

    /// Squid's error pages end with "Generated DATE by HOST (squid/VERSION)": the hop that wrote the page.
    static func generator(_ body: String) -> String? {
        guard let squid = body.range(of: " (squid", options: .backwards),
              let by = body.range(of: " by ", options: .backwards, range: body.startIndex..<squid.lowerBound) else { return nil }
        let host = body[by.upperBound..<squid.lowerBound].trimmingCharacters(in: .whitespaces)
        guard !host.isEmpty, host.count <= 253, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else { return nil }
        return host.lowercased()
    }

    /// `1.1 edge.corp (squid/5.7), 1.0 branch` → `[edge.corp, branch]`.
    static func viaPseudonyms(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.compactMap { entry in
            let words = entry.split(separator: " ")
            return words.count >= 2 ? String(words[1]).lowercased() : nil
        }
    }

    /// The `<title>` of an HTML page, or its first non-empty line, at most 200 characters.
    static func pageTitle(_ body: String) -> String? {
        if let open = body.range(of: "<title>", options: .caseInsensitive),
           let close = body.range(of: "</title>", options: .caseInsensitive, range: open.upperBound..<body.endIndex) {
            let title = body[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            if !title.isEmpty { return String(title.prefix(200)) }
        }
        let line = body.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        return line.map { String($0.prefix(200)) }
    }
}
