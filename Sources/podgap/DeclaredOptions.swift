import ArgumentParser

/// The options a command declares, read from its property wrappers: a fresh instance (every
/// `ParsableArguments` has `init()`) reflected with `Mirror`, each `@Option` or `@Flag` named as
/// ArgumentParser names it by default (the property in kebab case), `@OptionGroup`s followed into.
/// Groups of test-only knobs (`TestKnobs`) are left out, as their options are hidden from help.
/// ArgumentParser finds the same properties the same way (a `Mirror` of `init()`), so this reads
/// what parsing will accept without its underscored `_dumpHelp`. Custom names (`name:`) and
/// enum flags (`EnumerableFlag`) would be misread: kernel commands use neither, and
/// SuiteCommandTests hold each kernel's list against what `podgap run` accepts.
enum DeclaredOptions {
    /// Long names without the dashes, each with whether it is a flag (takes no value).
    static func of(_ type: ParsableArguments.Type) -> [String: Bool] {
        var options: [String: Bool] = [:]
        for child in Mirror(reflecting: type.init()).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            if let group = child.value as? DeclaredGroup {
                guard !(group.arguments is TestKnobs.Type) else { continue }
                options.merge(of(group.arguments)) { first, _ in first }
            } else if child.value is DeclaredFlag {
                options[longName(String(label.dropFirst()))] = true
            } else if child.value is DeclaredOption {
                options[longName(String(label.dropFirst()))] = false
            }
        }
        return options
    }

    /// ArgumentParser's default long name for a property: "bucketMb" is "bucket-mb", "runID"
    /// "run-id", "myURLProperty" "my-url-property" (its convertedToSnakeCase(separator: "-")).
    static func longName(_ property: String) -> String {
        let characters = Array(property)
        var result = ""
        var separate = true
        for (index, character) in characters.enumerated() {
            if character.isUppercase {
                if separate && !result.isEmpty { result.append("-") }
                separate = index + 2 < characters.count && characters[index + 1].isUppercase && characters[index + 2].isLowercase
            } else {
                separate = character != "-"
            }
            result += character.lowercased()
        }
        return result
    }
}

/// Options that exist for tests only (fault injection, dumps), hidden from help and from suites.
protocol TestKnobs: ParsableArguments {}

private protocol DeclaredFlag {}
private protocol DeclaredOption {}
private protocol DeclaredGroup { var arguments: ParsableArguments.Type { get } }
extension Flag: DeclaredFlag {}
extension Option: DeclaredOption {}
extension OptionGroup: DeclaredGroup { fileprivate var arguments: ParsableArguments.Type { Value.self } }
