import Foundation

extension M365WebService {
    /// The two lists one version of the service makes: Microsoft 365 (every service area but MEM) and Intune (MEM).
    public struct Lists {
        public var microsoft365: AllowList
        /// nil when the instance publishes no MEM sets.
        public var intune: AllowList?
        /// Keys of the answer's records this build does not know (ignored, reported).
        public var ignoredKeys: [String]
        /// Policies carried over from the previous files, per list (`microsoft-365`, `intune`).
        public var keptPolicies: [String: [PolicyRule]]
    }

    /// Where a policy read from the service's notes says it comes from, followed by the endpoint set's ID. Policies with
    /// another source were written by hand (quoting a documentation page) and survive an update.
    public static let notesPolicySource = "web service notes, endpoint set "

    /// Builds the lists from the default answer (`/endpoints/{instance}`) and the MEM answer (`ServiceAreas=MEM`), with
    /// the same importer as `allowlist convert`. From each previous list the update keeps what the service does not
    /// publish: hand-written policies, `minTLS` and `expectedIssuers`.
    public func lists(defaultSets: EndpointSets, intuneSets: EndpointSets, version: String, retrieved: String,
                      previous: (microsoft365: AllowList?, intune: AllowList?)) throws -> Lists {
        let known = M365EndpointSetImporter.keys
        let ignored = Set((defaultSets.records + intuneSets.records).flatMap(\.keys)).subtracting(known)
        let all = try importList(defaultSets, ignoring: ignored)
        let intuneAnswer = try importList(intuneSets, ignoring: ignored)
        func isIntune(_ service: Service) -> Bool { service.endpointSet?.serviceArea == Self.intuneServiceArea }
        // The MEM sets come with ServiceAreas=MEM; should the default answer ever hold them instead, they are taken from there.
        let intuneFrom = intuneAnswer.services.contains(where: isIntune) ? intuneAnswer : all
        let intuneServices = intuneFrom.services.filter(isIntune)

        let date = "\(version.prefix(4))-\(version.dropFirst(4).prefix(2))-\(version.dropFirst(6).prefix(2))"
        var kept: [String: [PolicyRule]] = [:]
        func make(id: String, name: String, from answer: AllowList, services: [Service], serviceAreas: String?, notes: String,
                  previous: AllowList?) -> AllowList {
            let source = ListSource(title: "Microsoft 365 IP Address and URL web service, \(instance.rawValue) instance"
                                        + (serviceAreas.map { ", service area \($0)" } ?? ""),
                                    url: sourceURL(serviceAreas: serviceAreas), date: date, retrieved: retrieved, version: version)
            let handWritten = (previous?.policies ?? []).filter { !($0.source ?? "").hasPrefix(Self.notesPolicySource) }
            kept[id] = handWritten
            var list = AllowList(id: id + instance.fileSuffix, name: name, file: source.url ?? "", source: source, notes: notes,
                                 policies: handWritten + services.flatMap(Self.policies(fromNotesOf:)), services: services,
                                 contentHash: answer.contentHash)
            let names = Set(services.map(\.name))
            list.corrections = answer.corrections.filter { names.contains($0.service) }
            list.format = .m365JSON
            list.minTLS = previous?.minTLS
            list.expectedIssuers = previous?.expectedIssuers ?? []
            return list
        }
        let where365 = instance == .worldwide ? "worldwide" : instance.rawValue
        let microsoft365 = make(id: "microsoft-365", name: "Microsoft 365 \(where365) endpoints", from: all,
                                services: all.services.filter { !isIntune($0) }, serviceAreas: nil,
                                notes: Self.listNotes(intune: false), previous: previous.microsoft365)
        let intune = intuneServices.isEmpty ? nil
            : make(id: "intune", name: "Microsoft Intune network endpoints" + (instance == .worldwide ? "" : " (\(instance.rawValue))"),
                   from: intuneFrom, services: intuneServices, serviceAreas: Self.intuneServiceArea,
                   notes: Self.listNotes(intune: true), previous: previous.intune)
        return Lists(microsoft365: microsoft365, intune: intune, ignoredKeys: ignored.sorted(), keptPolicies: kept)
    }

    /// One answer through the importer; what it cannot read is the service's fault, not the user's.
    private func importList(_ sets: EndpointSets, ignoring: Set<String>) throws -> AllowList {
        let hash = AllowListLoader.sha256Hex(sets.data)
        do {
            return try M365EndpointSetImporter.parse(String(decoding: sets.data, as: UTF8.self), file: sets.url, hash: hash,
                                                     ignoring: ignoring)
        } catch let error as InputError {
            throw WebServiceError(url: sets.url, problem: "an endpoint set cannot be read: \(Self.located(error))")
        } catch let error as InputErrors {
            let more = error.errors.count > 1 ? " (and \(error.errors.count - 1) more)" : ""
            throw WebServiceError(url: sets.url, problem: "an endpoint set cannot be read: \(error.errors.first.map(Self.located) ?? "")\(more)")
        }
    }

    /// `line 12: endpoint set 9: unknown port "x"` (the URL is already named).
    private static func located(_ error: InputError) -> String {
        (error.line.map { "line \($0): " } ?? "") + error.message
    }

    /// The list's own notes: what was taken from where.
    static func listNotes(intune: Bool) -> String {
        let scope = intune
            ? "Every endpoint set of service area MEM (Microsoft Intune), asked for with ServiceAreas=MEM; the Common sets that answer also holds are in the Microsoft 365 list."
            : "Every endpoint set of the service areas the endpoints method returns by default (Common, Exchange, SharePoint, Skype); Intune's sets (service area MEM) are in the Intune list."
        return "Generated by proxyvet allowlist update from the Microsoft 365 IP Address and URL web service. " + scope
            + " Each service is one endpoint set: its ID, service area, category (Optimize, Allow, Default), required flag,"
            + " ExpressRoute flag and notes are kept. A sentence of the notes saying that an endpoint takes no TLS inspection"
            + " or no proxy authentication becomes a policy (noInspection, noProxyAuth) quoting it; policies from another"
            + " source were kept from the previous file. URLs become endpoints on the set's TCP ports; IP ranges, UDP ports"
            + " and TCP ports of other protocols are kept and reported as not probeable through an HTTP proxy."
    }

    /// The policies a service's notes state: per sentence, each tag it states, for the hosts it names (else every URL of
    /// the set), quoting the sentence.
    static func policies(fromNotesOf service: Service) -> [PolicyRule] {
        guard let notes = service.notes, let set = service.endpointSet else { return [] }
        var rules: [PolicyRule] = []
        for sentence in sentences(notes) {
            let named = hosts(in: sentence)
            let patterns = named.isEmpty ? ListBuilder.union([], service.endpoints.map(\.host)) : named
            guard !patterns.isEmpty else { continue }
            for tag in policyTags(in: sentence) {
                rules.append(PolicyRule(tag: tag, patterns: patterns, source: notesPolicySource + String(set.id), quote: sentence))
            }
        }
        return rules
    }

    /// The policy tags a sentence states: `noInspection` when it says TLS inspection is not supported (or must be
    /// bypassed), `noProxyAuth` when it asks for unauthenticated proxy access or says proxy authentication is not
    /// supported. Mentions without a negation ("Microsoft Stream - unauthenticated") state nothing.
    public static func policyTags(in sentence: String) -> [PolicyTag] {
        let text = sentence.lowercased()
        let negated = text.range(of: #"\b(not|no|never|cannot|without|bypass\w*|exempt\w*|exclud\w*)\b|n't\b|n’t\b"#,
                                 options: .regularExpression) != nil
        var tags: [PolicyTag] = []
        if (text.contains("inspect") || text.contains("decrypt")) && negated { tags.append(.noInspection) }
        let unauthenticatedProxy = text.contains("unauthenticated") && text.contains("proxy")
        let proxyAuthentication = text.range(of: #"proxy (server )?auth"#, options: .regularExpression) != nil
        if unauthenticatedProxy || (proxyAuthentication && negated) { tags.append(.noProxyAuth) }
        return tags
    }

    /// The sentences of a note (split after `.`, `!` or `?` followed by white space; host names have no spaces).
    static func sentences(_ notes: String) -> [String] {
        var result: [String] = []
        var current = ""
        var previous: Character = " "
        for character in notes {
            if character.isWhitespace && ".!?".contains(previous) {
                result.append(current)
                current = ""
            } else if !(current.isEmpty && character.isWhitespace) {
                current.append(character)
            }
            previous = character
        }
        if !current.isEmpty { result.append(current) }
        return result.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Host names and patterns a sentence names (`manage.microsoft.com`, `'*.dm.microsoft.com'`), lower-cased, in order.
    static func hosts(in sentence: String) -> [String] {
        let pattern = #"[A-Za-z0-9*][A-Za-z0-9*-]*(\.[A-Za-z0-9*-]+)*\.[A-Za-z]{2,}"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(sentence.startIndex..., in: sentence)
        var found: [String] = []
        for match in regex.matches(in: sentence, range: range) {
            guard let swiftRange = Range(match.range, in: sentence) else { continue }
            let host = sentence[swiftRange].lowercased()
            if !found.contains(host) { found.append(host) }
        }
        return found
    }
}
