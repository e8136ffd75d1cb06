/// The tool's version, reported in every report and the User-Agent of probes.
public enum ProxyVetVersion {
    public static let current = "0.1.0"
}
