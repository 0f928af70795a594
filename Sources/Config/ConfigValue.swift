import Foundation
import Yams

/// Why a configuration file cannot be used, in one line: `FILE:LINE: path: problem` (the line
/// where YAML knows it, the path of the field as written, e.g. `kernels[0].allreduce.sizes`).
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var path: String
    public var problem: String

    public init(file: String, line: Int?, path: String, problem: String) {
        self.file = file; self.line = line; self.path = path; self.problem = problem
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? "\(location): \(problem)" : "\(location): \(path): \(problem)"
    }
}

/// One value of a YAML document with what names it in errors (file, line, path): the one reader
/// of fields for suites and model profiles, so both refuse bad files the same way.
public struct ConfigValue {
    let node: Node
    public let file: String
    /// Where the value sits, as written: `environments[1].pod-overlay.cpus`; empty for the top.
    public let path: String

    init(node: Node, file: String, path: String) { self.node = node; self.file = file; self.path = path }

    /// A suite or a profile is a few hundred values.
    public static let maximumValues = 100_000

    /// The document's top value; nil for an empty document.
    public static func document(_ text: String, file: String) throws -> ConfigValue? {
        if let problem = YAMLNesting.problem(in: text) {
            throw ConfigError(file: file, line: nil, path: "", problem: "\(problem); a suite or profile nests a handful")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            // Yams' own text runs over several lines (the offending line, a caret): keep the first.
            throw ConfigError(file: file, line: nil, path: "", problem: "not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let root else { return nil }
        try checkShape(root, file: file)
        return ConfigValue(node: root, file: file, path: "")
    }

    /// Found by benchmarks/fuzz: Yams traps on a key that is a list or mapping (`? [a]: 1`) when
    /// it builds values, and aliases of aliases ("billion laughs") unfold into more values than
    /// memory holds. Both are refused before anything reads the document.
    private static func checkShape(_ root: Node, file: String) throws {
        var pending = [root], visited = 0
        while let node = pending.popLast() {
            visited += 1
            guard visited <= maximumValues else {
                throw ConfigError(file: file, line: nil, path: "", problem: "more than \(maximumValues) YAML values (aliases of aliases?); a suite or profile has a few hundred")
            }
            switch node {
            case .scalar: break
            case .sequence(let items): pending += items
            case .mapping(let pairs):
                for (key, value) in pairs {
                    guard key.scalar != nil else {
                        throw ConfigError(file: file, line: key.mark?.line, path: "", problem: "a key must be a plain name, not a list or mapping")
                    }
                    pending.append(value)
                }
            }
        }
    }

    /// The line the value starts on (1 first).
    public var line: Int? { node.mark?.line }

    /// An error laid at this value.
    public func problem(_ text: String) -> ConfigError { ConfigError(file: file, line: line, path: path, problem: text) }

    /// The value as written, for messages; "(a list)" or "(a mapping)" for the others.
    public var written: String {
        if let scalar = node.scalar { return scalar.string }
        return node.sequence != nil ? "(a list)" : "(a mapping)"
    }

    public var isMapping: Bool { node.mapping != nil }
    public var isList: Bool { node.sequence != nil }
    /// A scalar that is empty or `~`/`null`: a key given without a value.
    public var isNull: Bool { node.scalar.map { $0.string.isEmpty || node.null != nil } ?? false }

    /// A scalar as YAML types it (Int, Double, Bool, String, NSNull), as `Yams.load` would give it.
    /// YAML 1.1's base-60 integers ("1:30", and so a size sweep "4:8") stay text: Yams reads them
    /// with arithmetic that traps on overflow (found by benchmarks/fuzz), and no suite or profile
    /// means one.
    public var typed: Any? {
        guard let scalar = node.scalar else { return nil }
        if node.tag.description == Tag.Name.int.rawValue && scalar.string.contains(":") { return scalar.string }
        return node.any
    }

    // MARK: scalars

    /// Any single value, as written (`4`, `1.5` and `yes` are text too).
    public func text() throws -> String {
        guard let scalar = node.scalar else { throw problem("must be a single value") }
        return scalar.string
    }

    /// A value YAML reads as text (not a number, a truth value or null).
    public func string() throws -> String {
        guard let text = typed as? String else { throw problem("'\(written)' is not text") }
        return text
    }

    public func integer(atLeast minimum: Int) throws -> Int {
        guard let number = node.scalar.flatMap({ Int($0.string) }), number >= minimum else {
            throw problem("'\(written)' must be a whole number of at least \(minimum)")
        }
        return number
    }

    /// A finite number (integer or decimal).
    public func number() throws -> Double {
        if let number = typed as? Int { return Double(number) }
        if let number = typed as? Double, number.isFinite { return number }
        throw problem("'\(written)' is not a number")
    }

    /// A number above zero.
    public func positive() throws -> Double {
        let value = try number()
        guard value > 0 else { throw problem("is \(value); it must be positive") }
        return value
    }

    /// A number between `range`'s bounds.
    public func number(in range: ClosedRange<Double>) throws -> Double {
        let value = try number()
        guard range.contains(value) else { throw problem("is \(value); it must be between \(range.lowerBound.formatted) and \(range.upperBound.formatted)") }
        return value
    }

    public func flag() throws -> Bool {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw problem("'\(written)' must be true or false")
        }
    }

    // MARK: collections

    public func list() throws -> [ConfigValue] {
        guard let items = node.sequence else { throw problem("must be a list") }
        return items.enumerated().map { ConfigValue(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    /// A mapping's entries in file order: each key's text, the key (for errors about the key) and
    /// the value (its path extended by the key).
    public func entries() throws -> [(name: String, key: ConfigValue, value: ConfigValue)] {
        guard let mapping = node.mapping else { throw problem("must be a mapping") }
        return mapping.map { pair in
            let name = pair.key.scalar?.string ?? ""
            let child = path.isEmpty ? name : "\(path).\(name)"
            return (name, ConfigValue(node: pair.key, file: file, path: child), ConfigValue(node: pair.value, file: file, path: child))
        }
    }

    /// The value of field `name` in a mapping (the last, if it is written twice, as a YAML
    /// loader keeps); nil when absent or when this is not a mapping.
    public func field(_ name: String) -> ConfigValue? {
        guard let entries = try? entries() else { return nil }
        return entries.last { $0.name == name }?.value
    }

    /// The value of a field that must be there.
    public func required(_ name: String) throws -> ConfigValue {
        guard isMapping else { throw problem("must be a mapping") }
        guard let value = field(name) else { throw problem("missing field '\(name)'") }
        return value
    }

    /// Refuses the first key not in `allowed`, naming what is.
    public func onlyFields(_ allowed: [String]) throws {
        for entry in try entries() where !allowed.contains(entry.name) {
            throw entry.key.problem("unknown field; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}

private extension Double {
    /// 0 and 1 rather than 0.0 and 1.0.
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}
