import Foundation

/// Recognises an HTML page given where data was expected (a list, the web service's JSON): an error or sign-in page
/// saved or fetched in its place, such as the 503 page the Microsoft 365 web service sometimes answers.
enum HTMLPage {
    /// True when the text starts (after white space) like an HTML document, or like an XML or comment prologue before one.
    static func starts(_ text: some StringProtocol) -> Bool {
        let head = text.drop { $0.isWhitespace }.prefix(1024).lowercased()
        return ["<!doctype html", "<html", "<head", "<body", "<title"].contains { head.hasPrefix($0) }
            || (head.hasPrefix("<?xml") || head.hasPrefix("<!--")) && head.contains("<html")
    }
}
