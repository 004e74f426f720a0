"""GET /api/dns/cluster/statistics aggregates what every agent reports."""
import cluster as cl  # noqa: F401  (fixtures)

pytest_plugins = ["cluster_fixtures"]


def test_cluster_statistics_carry_each_agents_own_counters(cluster):
    c = cluster
    zid = c.create_zone("agent-stats.example")
    c.add_record(zid, "www", "A", "192.0.2.9")
    for node in c.nodes:  # queries that each PowerDNS counts
        assert node.dig("www.agent-stats.example.", "A") == ["192.0.2.9"]

    s = c.whm.call("GET", "/api/dns/cluster/statistics", expect=200)

    assert s["averageZonesPerNode"] == 1
    assert s["queries"]["queries"] >= 3
    for n in s["nodes"]:
        agent = n["statistics"]
        assert agent["status"] == "running", n
        assert agent["zones"] == 1
        assert agent["queries"] >= 1


def test_cluster_statistics_report_a_stopped_agent_instead_of_failing(cluster):
    c = cluster
    c.create_zone("agent-stats-down.example")
    c.nodes[2].stop_agent()

    s = c.whm.call("GET", "/api/dns/cluster/statistics", expect=200)

    by_id = {n["nodeId"]: n for n in s["nodes"]}
    assert "error" in by_id[c.nodes[2].server_id]["statistics"]
    assert by_id[c.nodes[0].server_id]["statistics"]["zones"] == 1
