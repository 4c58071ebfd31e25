//! Elastic Common Schema field names that Haechi writes. Using these constants instead of
//! string literals keeps parsers consistent with each other and with the store.

pub const TIMESTAMP: &str = "@timestamp";
pub const ORGANIZATION_ID: &str = "organization.id";
pub const MESSAGE: &str = "message";

pub const EVENT_ORIGINAL: &str = "event.original";
pub const EVENT_KIND: &str = "event.kind";
pub const EVENT_CATEGORY: &str = "event.category";
pub const EVENT_TYPE: &str = "event.type";
pub const EVENT_OUTCOME: &str = "event.outcome";
pub const EVENT_ACTION: &str = "event.action";
pub const EVENT_CODE: &str = "event.code";
pub const EVENT_SEVERITY: &str = "event.severity";
pub const EVENT_DATASET: &str = "event.dataset";
pub const EVENT_MODULE: &str = "event.module";
pub const EVENT_PROVIDER: &str = "event.provider";
pub const EVENT_DURATION: &str = "event.duration";
pub const EVENT_ID: &str = "event.id";
pub const EVENT_CREATED: &str = "event.created";
pub const EVENT_RECORD_ID: &str = "event.sequence";

pub const OBSERVER_VENDOR: &str = "observer.vendor";
pub const OBSERVER_PRODUCT: &str = "observer.product";
pub const OBSERVER_TYPE: &str = "observer.type";
pub const OBSERVER_VERSION: &str = "observer.version";
pub const OBSERVER_HOSTNAME: &str = "observer.hostname";
pub const OBSERVER_IP: &str = "observer.ip";

pub const HOST_NAME: &str = "host.name";
pub const HOST_HOSTNAME: &str = "host.hostname";
pub const HOST_IP: &str = "host.ip";

pub const SOURCE_IP: &str = "source.ip";
pub const SOURCE_PORT: &str = "source.port";
pub const SOURCE_BYTES: &str = "source.bytes";
pub const SOURCE_PACKETS: &str = "source.packets";
pub const SOURCE_MAC: &str = "source.mac";
pub const SOURCE_DOMAIN: &str = "source.domain";
pub const SOURCE_NAT_IP: &str = "source.nat.ip";
pub const SOURCE_NAT_PORT: &str = "source.nat.port";
pub const DESTINATION_IP: &str = "destination.ip";
pub const DESTINATION_PORT: &str = "destination.port";
pub const DESTINATION_BYTES: &str = "destination.bytes";
pub const DESTINATION_PACKETS: &str = "destination.packets";
pub const DESTINATION_MAC: &str = "destination.mac";
pub const DESTINATION_DOMAIN: &str = "destination.domain";
pub const DESTINATION_NAT_IP: &str = "destination.nat.ip";
pub const DESTINATION_NAT_PORT: &str = "destination.nat.port";
pub const CLIENT_IP: &str = "client.ip";
pub const SERVER_IP: &str = "server.ip";
pub const RELATED_IP: &str = "related.ip";
pub const RELATED_USER: &str = "related.user";
pub const RELATED_HOSTS: &str = "related.hosts";

pub const NETWORK_TRANSPORT: &str = "network.transport";
pub const NETWORK_PROTOCOL: &str = "network.protocol";
pub const NETWORK_DIRECTION: &str = "network.direction";
pub const NETWORK_BYTES: &str = "network.bytes";
pub const NETWORK_PACKETS: &str = "network.packets";
pub const NETWORK_COMMUNITY_ID: &str = "network.community_id";

pub const USER_NAME: &str = "user.name";
pub const USER_DOMAIN: &str = "user.domain";
pub const USER_ID: &str = "user.id";

pub const PROCESS_NAME: &str = "process.name";
pub const PROCESS_PID: &str = "process.pid";
pub const PROCESS_EXECUTABLE: &str = "process.executable";
pub const PROCESS_COMMAND_LINE: &str = "process.command_line";
pub const PROCESS_PARENT_EXECUTABLE: &str = "process.parent.executable";
pub const PROCESS_PARENT_COMMAND_LINE: &str = "process.parent.command_line";
pub const PROCESS_PARENT_PID: &str = "process.parent.pid";

pub const LOG_LEVEL: &str = "log.level";
pub const LOG_SYSLOG_FACILITY_CODE: &str = "log.syslog.facility.code";
pub const LOG_SYSLOG_FACILITY_NAME: &str = "log.syslog.facility.name";
pub const LOG_SYSLOG_SEVERITY_CODE: &str = "log.syslog.severity.code";
pub const LOG_SYSLOG_SEVERITY_NAME: &str = "log.syslog.severity.name";
pub const LOG_SYSLOG_PRIORITY: &str = "log.syslog.priority";
pub const LOG_SYSLOG_APPNAME: &str = "log.syslog.appname";
pub const LOG_SYSLOG_PROCID: &str = "log.syslog.procid";
pub const LOG_SYSLOG_MSGID: &str = "log.syslog.msgid";
pub const LOG_SYSLOG_VERSION: &str = "log.syslog.version";
pub const LOG_FILE_PATH: &str = "log.file.path";

pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
pub const HTTP_REQUEST_REFERRER: &str = "http.request.referrer";
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
pub const HTTP_RESPONSE_BODY_BYTES: &str = "http.response.body.bytes";
pub const HTTP_VERSION: &str = "http.version";
pub const URL_ORIGINAL: &str = "url.original";
pub const URL_PATH: &str = "url.path";
pub const URL_QUERY: &str = "url.query";
pub const URL_DOMAIN: &str = "url.domain";
pub const USER_AGENT_ORIGINAL: &str = "user_agent.original";

pub const DNS_QUESTION_NAME: &str = "dns.question.name";
pub const DNS_QUESTION_TYPE: &str = "dns.question.type";
pub const DNS_RESPONSE_CODE: &str = "dns.response_code";
pub const DNS_TYPE: &str = "dns.type";
pub const DNS_ID: &str = "dns.id";
pub const DNS_RESOLVED_IP: &str = "dns.resolved_ip";

pub const TLS_VERSION: &str = "tls.version";
pub const TLS_CLIENT_SERVER_NAME: &str = "tls.client.server_name";
pub const TLS_CLIENT_JA3: &str = "tls.client.ja3";
pub const TLS_SERVER_SUBJECT: &str = "tls.server.subject";
pub const TLS_SERVER_ISSUER: &str = "tls.server.issuer";

pub const FILE_NAME: &str = "file.name";
pub const FILE_SIZE: &str = "file.size";
pub const FILE_HASH_MD5: &str = "file.hash.md5";
pub const FILE_HASH_SHA1: &str = "file.hash.sha1";
pub const FILE_HASH_SHA256: &str = "file.hash.sha256";

pub const RULE_ID: &str = "rule.id";
pub const RULE_NAME: &str = "rule.name";
pub const RULE_CATEGORY: &str = "rule.category";

pub const WINLOG_CHANNEL: &str = "winlog.channel";
pub const WINLOG_PROVIDER_NAME: &str = "winlog.provider_name";
pub const WINLOG_RECORD_ID: &str = "winlog.record_id";
pub const WINLOG_COMPUTER_NAME: &str = "winlog.computer_name";
pub const WINLOG_EVENT_ID: &str = "winlog.event_id";

/// ECS fields whose values are IP addresses; the store indexes them as IPs so that CIDR
/// searches (`source.ip:10.0.0.0/8`) are range lookups, not scans.
pub const IP_FIELDS: &[&str] = &[
    SOURCE_IP,
    DESTINATION_IP,
    CLIENT_IP,
    SERVER_IP,
    HOST_IP,
    OBSERVER_IP,
    RELATED_IP,
    SOURCE_NAT_IP,
    DESTINATION_NAT_IP,
    DNS_RESOLVED_IP,
];

// Added for the JSON, Suricata, Zeek and EVTX parsers.
pub const EVENT_START: &str = "event.start";
pub const EVENT_END: &str = "event.end";
pub const OBSERVER_INGRESS_INTERFACE_NAME: &str = "observer.ingress.interface.name";
pub const CLIENT_MAC: &str = "client.mac";
pub const TLS_VERSION_PROTOCOL: &str = "tls.version_protocol";
pub const TLS_CIPHER: &str = "tls.cipher";
pub const TLS_CURVE: &str = "tls.curve";
pub const TLS_ESTABLISHED: &str = "tls.established";
pub const TLS_RESUMED: &str = "tls.resumed";
pub const TLS_NEXT_PROTOCOL: &str = "tls.next_protocol";
pub const TLS_SERVER_JA3S: &str = "tls.server.ja3s";
pub const TLS_SERVER_NOT_BEFORE: &str = "tls.server.not_before";
pub const TLS_SERVER_NOT_AFTER: &str = "tls.server.not_after";
pub const TLS_SERVER_HASH_SHA1: &str = "tls.server.hash.sha1";
pub const FILE_MIME_TYPE: &str = "file.mime_type";
pub const HTTP_REQUEST_BODY_BYTES: &str = "http.request.body.bytes";
pub const HTTP_RESPONSE_MIME_TYPE: &str = "http.response.mime_type";
pub const X509_VERSION_NUMBER: &str = "x509.version_number";
pub const X509_SERIAL_NUMBER: &str = "x509.serial_number";
pub const X509_SUBJECT_DISTINGUISHED_NAME: &str = "x509.subject.distinguished_name";
pub const X509_ISSUER_DISTINGUISHED_NAME: &str = "x509.issuer.distinguished_name";
pub const X509_NOT_BEFORE: &str = "x509.not_before";
pub const X509_NOT_AFTER: &str = "x509.not_after";
pub const X509_PUBLIC_KEY_ALGORITHM: &str = "x509.public_key_algorithm";
pub const X509_PUBLIC_KEY_SIZE: &str = "x509.public_key_size";
pub const X509_SIGNATURE_ALGORITHM: &str = "x509.signature_algorithm";
pub const X509_ALTERNATIVE_NAMES: &str = "x509.alternative_names";
pub const EMAIL_FROM_ADDRESS: &str = "email.from.address";
pub const EMAIL_TO_ADDRESS: &str = "email.to.address";
pub const EMAIL_SUBJECT: &str = "email.subject";
pub const EMAIL_MESSAGE_ID: &str = "email.message_id";
pub const PROCESS_PARENT_NAME: &str = "process.parent.name";
pub const DNS_ANSWERS_DATA: &str = "dns.answers.data";
