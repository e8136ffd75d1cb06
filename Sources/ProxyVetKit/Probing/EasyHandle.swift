import Foundation
internal import CCurlShim

/// A libcurl easy handle and what libcurl writes into for it: the one owner of every easy handle ProxyVet creates,
/// for the probe engine's transfers (`Transfer`) and the single blocking requests (`CurlRequest`).
///
/// Created with its error buffer (CURLOPT_ERRORBUFFER) and freed with it, and with any header list it was given, in
/// `deinit` (https://curl.se/libcurl/c/curl_easy_cleanup.html). A handle in a multi handle must be removed from it
/// before its owner lets go of it; `ProbeEngine` does that when a transfer finishes.
final class EasyHandle {
    let handle: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    /// Header lists given with `set(_:list:)`, kept alive while libcurl may read them.
    private var lists: [UnsafeMutablePointer<curl_slist>] = []

    /// Nil when libcurl is not initialised or cannot create a handle (a local failure, never a network finding).
    init?() {
        guard Curl.initialized, let handle = curl_easy_init() else { return nil }
        self.handle = handle
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(handle)
        for list in lists { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) { _ = CCurlShim_easy_setopt_long(handle, option, value) }
    func set(_ option: CURLoption, _ value: String) { _ = CCurlShim_easy_setopt_string(handle, option, value) }
    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) { _ = CCurlShim_easy_setopt_pointer(handle, option, pointer) }
    func set(_ option: CURLoption, callback: CCurlShimWriteCallback) { _ = CCurlShim_easy_setopt_write_callback(handle, option, callback) }

    /// Sets a list option from strings; the list lives as long as this handle.
    func set(_ option: CURLoption, list strings: [String]) {
        var list: UnsafeMutablePointer<curl_slist>?
        for string in strings { list = curl_slist_append(list, string) }
        guard let list else { return }
        lists.append(list)
        _ = CCurlShim_easy_setopt_slist(handle, option, list)
    }

    /// Sets a list owned elsewhere (shared by many handles, e.g. the engine's CURLOPT_RESOLVE pins).
    func set(_ option: CURLoption, sharedList list: UnsafeMutablePointer<curl_slist>) {
        _ = CCurlShim_easy_setopt_slist(handle, option, list)
    }

    func long(_ info: CURLINFO) -> Int {
        var value = 0
        _ = CCurlShim_easy_getinfo_long(handle, info, &value)
        return value
    }

    /// A time info (`CURLINFO_*_TIME_T`, microseconds) in seconds.
    func seconds(_ info: CURLINFO) -> Double {
        var value: curl_off_t = 0
        _ = CCurlShim_easy_getinfo_off_t(handle, info, &value)
        return Double(value) / 1_000_000
    }

    /// A string-valued info, copied.
    func string(_ info: CURLINFO) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard CCurlShim_easy_getinfo_string(handle, info, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    /// libcurl's detailed message for the transfer's failure (the error buffer), else its text for `code`.
    func message(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? Curl.message(for: code) : detail
    }
}
