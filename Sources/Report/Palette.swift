/// One colour per environment, the same in every chart.
enum Palette {
    static let known: [String: String] = [
        "native-shm": "#1b9e77", "native-tcp": "#66a61e", "native-2node": "#377eb8", "pod-routed": "#984ea3",
        "pod-overlay": "#e41a1c", "pod-host": "#ff7f00", "pod-bridge": "#a65628", "native-rdma": "#f781bf",
        "pod-rdma": "#999999",
    ]
    static let spare = ["#17becf", "#bcbd22", "#7f7f7f", "#8c564b", "#e377c2"]

    static func colour(_ environment: String, among environments: [String]) -> String {
        if let colour = known[environment] { return colour }
        let others = environments.filter { known[$0] == nil }
        return spare[(others.firstIndex(of: environment) ?? 0) % spare.count]
    }
}

/// Text safe inside HTML and SVG elements and attributes.
func escapeXML(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
