"""Records of every accepted type and name form are served as pushed, in
canonical form, including the SOA the agent adds."""

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

import harness
from harness import rec

HEX32 = "0123456789abcdef" * 4  # 32 bytes as hex
NS = rec("@", "NS", "ns1.example.net.")


def rrset(node, name, rtype):
    msg = node.query(name, rtype)
    for r in msg.answer:
        if r.name.to_text() == name and r.rdtype == dns.rdatatype.from_text(rtype):
            return r
    return None


@pytest.fixture(scope="module")
def soa_node(tmp_path_factory):
    node = harness.Node(tmp_path_factory.mktemp("soa_node"), name="soa", config={
        "soa-mname": "ns0.primary.test.", "soa-rname": "dns-admin.primary.test.",
        "soa-refresh": 7200, "soa-retry": 1800, "soa-expire": 1209600,
        "soa-minimum": 300, "soa-ttl": 1800})
    try:
        yield node.start()
    finally:
        node.stop()


def test_added_soa_carries_pushed_serial_and_configured_names(soa_node, zone_name):
    soa_node.push_ok(zone_name, 1, 2026042501, [NS, rec("@", "A", "192.0.2.1")])

    soa = rrset(soa_node, zone_name, "SOA")

    assert [r.to_text() for r in soa] == [
        "ns0.primary.test. dns-admin.primary.test. 2026042501 7200 1800 1209600 300"]
    assert soa.ttl == 1800


def test_added_soa_follows_the_serial_of_each_push(soa_node, zone_name):
    soa_node.push_ok(zone_name, 1, 100, [NS])
    soa_node.push_ok(zone_name, 2, 5, [NS])  # serials are the controller's business

    assert soa_node.dig(zone_name, "SOA")[0].split()[2] == "5"


def test_default_soa_values_come_from_the_config(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 42, [NS])

    assert shared_node.dig(zone_name, "SOA") == [
        "%s %s 42 10800 3600 604800 3600" % (harness.SOA_MNAME, harness.SOA_RNAME)]


def test_pushed_soa_is_served_as_given(shared_node, zone_name):
    soa = rec("@", "SOA", "ns.other.test. admin.other.test. 77 1200 600 86400 300", ttl=600)

    shared_node.push_ok(zone_name, 1, 77, [NS, soa])

    assert shared_node.dig(zone_name, "SOA") == [
        "ns.other.test. admin.other.test. 77 1200 600 86400 300"]


def test_mx_priority_field_is_served_before_the_target(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("@", "MX", "mail.example.com.", priority=10),
        rec("@", "MX", "20 backup.example.com."),
        rec("@", "MX", "mx", priority=30),
        rec("mx", "A", "192.0.2.25"),
    ])

    assert shared_node.dig(zone_name, "MX") == [
        "10 mail.example.com.", "20 backup.example.com.", "30 mx." + zone_name]


def test_srv_priority_field_is_served_before_weight_and_port(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("_sip._tcp", "SRV", "5 5060 sip.example.com.", priority=10),
        rec("_xmpp._tcp", "SRV", "0 5 5222 xmpp.example.com."),
    ])

    assert shared_node.dig("_sip._tcp." + zone_name, "SRV") == ["10 5 5060 sip.example.com."]
    assert shared_node.dig("_xmpp._tcp." + zone_name, "SRV") == ["0 5 5222 xmpp.example.com."]


def test_txt_with_spaces_and_quotes_is_served_verbatim(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("@", "TXT", '"v=spf1 include:_spf.example.com -all"'),
        rec("quotes", "TXT", r'"say \"hi\" to me" "second string"'),
        rec("word", "TXT", "plain"),
        rec("long", "TXT", '"%s"' % ("x" * 255)),
        rec("_dmarc", "TXT", '"v=DMARC1; p=reject"'),
    ])

    assert shared_node.dig(zone_name, "TXT") == ['"v=spf1 include:_spf.example.com -all"']
    assert shared_node.dig("quotes." + zone_name, "TXT") == [r'"say \"hi\" to me" "second string"']
    assert shared_node.dig("word." + zone_name, "TXT") == ['"plain"']
    assert shared_node.dig("long." + zone_name, "TXT") == ['"%s"' % ("x" * 255)]
    assert shared_node.dig("_dmarc." + zone_name, "TXT") == ['"v=DMARC1; p=reject"']


def test_caa_records_are_served(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("@", "CAA", '0 issue "letsencrypt.org"'),
        rec("@", "CAA", '0 issuewild ";"'),
        rec("@", "CAA", '128 iodef "mailto:security@example.com"'),
    ])

    assert shared_node.dig(zone_name, "CAA") == [
        '0 issue "letsencrypt.org"', '0 issuewild ";"', '128 iodef "mailto:security@example.com"']


def test_apex_relative_absolute_and_deep_names_are_served(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("@", "A", "192.0.2.1"),
        rec("rel", "A", "192.0.2.2"),
        rec("abs." + zone_name, "A", "192.0.2.3"),
        rec("a.b.c", "A", "192.0.2.4"),
        rec(zone_name, "AAAA", "2001:db8::5"),
        rec("Mixed-Case", "A", "192.0.2.6"),
    ])

    assert shared_node.dig(zone_name, "A") == ["192.0.2.1"]
    assert shared_node.dig("rel." + zone_name, "A") == ["192.0.2.2"]
    assert shared_node.dig("abs." + zone_name, "A") == ["192.0.2.3"]
    assert shared_node.dig("a.b.c." + zone_name, "A") == ["192.0.2.4"]
    assert shared_node.dig(zone_name, "AAAA") == ["2001:db8::5"]
    assert shared_node.dig("mixed-case." + zone_name, "A") == ["192.0.2.6"]
    names = {r["name"] for r in shared_node.zone(zone_name).json()["records"]}
    assert "mixed-case." + zone_name in names
    assert not any(n.endswith(zone_name + zone_name) for n in names)


def test_empty_non_terminal_answers_nodata_not_nxdomain(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [NS, rec("a.b.c", "A", "192.0.2.4")])

    # RFC 8020: 'b.c' exists (it has a name below it), so NOERROR without data.
    assert shared_node.rcode("b.c." + zone_name, "A") == "NOERROR"
    assert shared_node.rcode("c." + zone_name, "A") == "NOERROR"
    assert shared_node.rcode("x.c." + zone_name, "A") == "NXDOMAIN"


def test_wildcards_answer_for_any_name_below(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("*", "A", "192.0.2.9"),
        rec("*.dev", "TXT", '"dev wildcard"'),
        rec("exact", "A", "192.0.2.10"),
    ])

    assert shared_node.dig("anything." + zone_name, "A") == ["192.0.2.9"]
    assert shared_node.dig("a.b.anything." + zone_name, "A") == ["192.0.2.9"]
    assert shared_node.dig("exact." + zone_name, "A") == ["192.0.2.10"]
    assert shared_node.dig("x.dev." + zone_name, "TXT") == ['"dev wildcard"']


def test_aaaa_is_stored_and_served_in_canonical_form(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("v6", "AAAA", "2001:0DB8:0000:0000:0000:0000:0000:0001"),
        rec("v6", "AAAA", "2001:db8:0:1::"),
        rec("mapped", "AAAA", "::ffff:192.0.2.1"),
    ])

    assert shared_node.dig("v6." + zone_name, "AAAA") == ["2001:db8:0:1::", "2001:db8::1"]
    contents = sorted(r["content"] for r in shared_node.zone(zone_name).json()["records"]
                      if r["type"] == "AAAA")
    assert contents == ["2001:db8:0:1::", "2001:db8::1", "::ffff:192.0.2.1"]


def test_cname_with_relative_target_is_served(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("www", "A", "192.0.2.1"),
        rec("alias", "CNAME", "www"),
        rec("ext", "CNAME", "target.example.net."),
    ])

    assert shared_node.dig("alias." + zone_name, "CNAME") == ["www." + zone_name]
    assert shared_node.dig("alias." + zone_name, "A") == []  # CNAME answered, chased
    msg = shared_node.query("alias." + zone_name, "A")
    assert harness.answer_texts(msg, "www." + zone_name, "A") == ["192.0.2.1"]
    assert shared_node.dig("ext." + zone_name, "CNAME") == ["target.example.net."]


def test_every_other_accepted_type_is_served(shared_node, zone_name):
    z = zone_name
    shared_node.push_ok(z, 1, 1, [
        NS,
        rec("ptr", "PTR", "host.example.net."),
        rec("naptr", "NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .'),
        rec("host", "SSHFP", "4 2 " + HEX32),
        rec("_443._tcp.www", "TLSA", "3 1 1 " + HEX32),
        rec("old", "DNAME", "new.example.net."),
        rec("sub", "NS", "ns.sub." + z),
        rec("ns.sub", "A", "192.0.2.53"),
        rec("sub", "DS", "12345 13 2 " + HEX32.upper()),
    ])

    def expect(rtype, text):
        return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype),
                                    text).to_text()]

    assert shared_node.dig("ptr." + z, "PTR") == ["host.example.net."]
    assert shared_node.dig("naptr." + z, "NAPTR") == expect(
        "NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .')
    assert shared_node.dig("host." + z, "SSHFP") == expect("SSHFP", "4 2 " + HEX32)
    assert shared_node.dig("_443._tcp.www." + z, "TLSA") == expect("TLSA", "3 1 1 " + HEX32)
    assert shared_node.dig("old." + z, "DNAME") == ["new.example.net."]
    assert shared_node.dig("sub." + z, "DS") == expect("DS", "12345 13 2 " + HEX32)
    referral = shared_node.query("www.sub." + z, "A")
    assert [r.to_text() for r in referral.authority if r.rdtype == dns.rdatatype.NS] == [
        "sub.%s 3600 IN NS ns.sub.%s" % (z, z)]


def test_ttls_are_served_as_pushed_and_default_to_3600(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, [
        NS,
        rec("zero", "A", "192.0.2.1", ttl=0),
        rec("max", "A", "192.0.2.2", ttl=2147483647),
        rec("default", "A", "192.0.2.3"),
    ])

    assert rrset(shared_node, "zero." + zone_name, "A").ttl == 0
    assert rrset(shared_node, "max." + zone_name, "A").ttl == 2147483647
    assert rrset(shared_node, "default." + zone_name, "A").ttl == 3600
