import Foundation
import Kernels
import Records
import Report
import Runner

/// nccl-tests' layout on stdout as points finish (Report's `NCCLTestsTable` formats it): a size's
/// row is printed once its last placement is measured, the footer after the sweep. A class: it
/// holds the size's out-of-place point until its in-place partner arrives.
final class NCCLTable: ResultTable {
    let title: String
    let placements: [Allreduce.Placement]
    private var waiting: [Record] = []
    private var printed: [Record] = []

    init(title: String, placements: [Allreduce.Placement]) {
        self.title = title
        self.placements = placements
    }

    func printHeader(environment: Environment, ranks: Int) {
        print("# podgap \(title), nccl-tests' columns")
        print(provenanceLine(environment: environment, ranks: ranks))
        NCCLTestsTable.headerLines().forEach { print($0) }
        fflush(stdout)
    }

    func printRow(_ record: Record) {
        waiting.append(record)
        guard waiting.count == placements.count else { return }
        let inPlace = waiting.first { $0.params["in_place"] == .bool(true) }
        let outOfPlace = waiting.first { $0.params["in_place"] != .bool(true) }
        print(NCCLTestsTable.row(outOfPlace: outOfPlace, inPlace: inPlace)
              + (waiting.allSatisfy(\.verified) ? "" : "  UNVERIFIED"))
        fflush(stdout)
        printed += waiting
        waiting.removeAll()
    }

    func finish() {
        NCCLTestsTable.footerLines(printed).forEach { print($0) }
        fflush(stdout)
    }
}
