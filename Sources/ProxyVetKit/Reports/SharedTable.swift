/// Values stored once, each under a short id (`prefix` and its place, from 1: `e1`, `e2`, …) in the order first seen:
/// how a report keeps evidence, reasons and certificates that many results share.
struct SharedTable<Value: Equatable> {
    /// One letter naming the table in its ids (`e` for evidence).
    let prefix: String
    private(set) var values: [Value] = []
    /// A cheap key that equal values share; values with the same key are told apart by `==`.
    private let key: (Value) -> String
    private var places: [String: [Int]] = [:]

    /// A table whose values are told apart by `key` first, then by `==`.
    init(prefix: String, key: @escaping (Value) -> String) {
        self.prefix = prefix
        self.key = key
    }

    /// The id of `value`, added to the table when it is new.
    mutating func id(_ value: Value) -> String {
        let name = key(value)
        if let place = places[name]?.first(where: { values[$0] == value }) { return prefix + String(place + 1) }
        places[name, default: []].append(values.count)
        values.append(value)
        return prefix + String(values.count)
    }

    /// The table as JSON holds it (id → value); nil when empty, so an unused table is not written.
    var byID: [String: Value]? {
        values.isEmpty ? nil : Dictionary(uniqueKeysWithValues: values.enumerated().map { (prefix + String($0.offset + 1), $0.element) })
    }
}

extension SharedTable where Value: Hashable {
    /// A table of hashable values.
    init(prefix: String) {
        self.init(prefix: prefix, key: { String($0.hashValue) })
    }
}
