import ArgumentParser
import Foundation
import Report

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Push the report's OpenMetrics text (report --format openmetrics) to a Prometheus Pushgateway.",
        discussion: """
        Reads and compares FILES exactly as podgap report does, then PUTs the text into the \
        gateway's group for --job (replacing what that group held). Exit code 2 on bad input, \
        including a URL that does not parse and a gateway that does not answer 2xx within --timeout; \
        the records are only read. See docs/suite-and-report.md.
        """)

    @Option(help: "The Pushgateway's address: http://HOST:PORT, e.g. http://127.0.0.1:9091.")
    var pushgateway: String

    @Option(help: "The job name the metrics are grouped under in the gateway.")
    var job = "podgap"

    @Option(parsing: .unconditional, help: "Give up on the gateway after this long, e.g. 10, 10s, 1m (default: 10s).",
            transform: Typed.seconds)
    var timeout = Typed(value: 10.0, text: "10s")

    @OptionGroup var inputs: ReportInputs

    func run() throws {
        // The address is checked before any record is read: a typo costs nothing.
        let gateway: Pushgateway
        do { gateway = try Pushgateway(pushgateway) } catch let error as PushgatewayError { throw Failure.badInput(error.description) }
        let options = try inputs.analysisOptions()
        let body = try ReportCommand.render(files: inputs.files, format: .openmetrics, skipBad: inputs.skipBad, options: options)
        do {
            let status = try gateway.push(body: body, job: job, timeout: timeout.value)
            print("pushed \(body.utf8.count) bytes of OpenMetrics to \(gateway.endpoint(job: job)): HTTP \(status)")
        } catch let error as PushgatewayError {
            throw Failure.badInput(error.description)
        }
    }
}
