"""The EIDO mapping: an export read back gives the same incident; NENA's call-transfer sample imports; what
cannot be imported safely is refused with a stable error id; a webhook carries its own ticket only."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from ntpd112.store.eido import ticket_facts
from ntpd112.store.tickets import TicketEventView, TicketPlace, TicketRecord, TicketSummary
from ntpd112.tickets import pidf_lo
from ntpd112.tickets.eido import (
    EidoRefused,
    IncidentFacts,
    TicketEventFacts,
    TicketFacts,
    from_eido,
    to_eido,
)
from ntpd112.tickets.eido_document import EidoDocument
from ntpd112.tickets.flow import Actor, TicketStatus
from ntpd112.tickets.pidf_lo import Place

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
AGENCIES = ["damkar", "psc119", "polres"]


def facts() -> IncidentFacts:
    ticket_id = uuid.uuid4()
    return IncidentFacts(
        incident_id=uuid.uuid4(),
        call_id=uuid.uuid4(),
        category="fire",
        category_label="Kebakaran",
        severity="critical",
        status="ticket",
        address="Jl. Raya Legok No. 5 <gudang & toko>",
        description="gudang terbakar\ndua korban",
        lat=-6.2345678,
        lon=106.631234,
        area="Pagedangan",
        created_by="ani",
        created_at=T0,
        updated_at=T0,
        call_started_at=T0,
        call_answered_at=T0,
        call_ended_at=None,
        caller_number="+6281234567890",
        caller_place=Place(-6.2345, 106.6312, 25.0, "Kabupaten Tangerang", "Pagedangan", "Medang", "aml"),
        tickets=[
            TicketFacts(
                ticket_id,
                "112-2026-000001",
                "damkar",
                "fire",
                "acknowledged",
                T0,
                T0,
                [
                    TicketEventFacts(T0, "status", None, "new", "ani", "dua korban"),
                    TicketEventFacts(T0, "status", "new", "sent", "system:web", None),
                    TicketEventFacts(T0, "status", "sent", "acknowledged", "damkar1", None),
                ],
            ),
            TicketFacts(uuid.uuid4(), "112-2026-000002", "psc119", "health", "sent", T0, T0, []),
        ],
    )


def through_json(document: EidoDocument) -> EidoDocument:
    return EidoDocument.model_validate_json(json.dumps(document.json_body()))


def test_an_exported_incident_imports_as_the_same_incident() -> None:
    source = facts()
    document = through_json(to_eido(source, "112.tangerangkab.go.id", T0, include_caller=True))
    body = document.json_body()
    assert body["$id"] == f"urn:emergency:uid:incidentid:{source.incident_id}:112.tangerangkab.go.id"
    assert body["eidoVersion"] == "1.0" and body["agencyComponent"][0]["incidentOwningAgencyIndicator"] is True
    assert [r["primaryUnitStatusRegistryText"] for r in body["emergencyResourceComponent"]] == [
        "Acknowledged",
        "Dispatched",
    ]

    plan = from_eido(document, AGENCIES)
    assert plan.eido_id == body["$id"]
    assert plan.category_candidates[0] == "fire" and plan.severity == "critical" and plan.status == "ticket"
    assert (plan.address, plan.description) == (source.address, source.description)
    assert (plan.incident_place.lat, plan.incident_place.lon, plan.incident_place.kecamatan) == (
        -6.2345678,
        106.631234,
        "Pagedangan",
    )
    caller = plan.caller_place
    assert (caller.lat, caller.lon, caller.radius_m) == (-6.2345, 106.6312, 25.0)
    assert (caller.kabupaten, caller.kecamatan, caller.kelurahan) == ("Kabupaten Tangerang", "Pagedangan", "Medang")
    assert plan.caller_number == "+6281234567890"
    assert plan.agencies == ["damkar", "psc119"]
    assert "sent -> acknowledged" in plan.ticket_notes["damkar"] and "damkar1" in plan.ticket_notes["damkar"]


def test_the_callers_number_is_left_out_unless_included() -> None:
    document = to_eido(facts(), "112.example.id", T0, include_caller=False)
    text = json.dumps(document.json_body())
    assert "6281234567890" not in text and document.callbackComponent == [] and document.personComponent == []
    assert from_eido(through_json(document), AGENCIES).caller_number is None


def nena_call_transfer_sample() -> dict[str, Any]:
    """The shape of NENA911/EIDO-JSON Samples/"Sample call transfer EIDO.json" (trimmed: no additional data; its
    person component's timestamp has no offset, as in the sample)."""
    agency = {"$ref": "state.pa.us"}
    civic = (
        '<?xml version="1.0" encoding="UTF-8"?> <presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
        'entity="pres:alice@atlanta.example.com"> <dm:device id="target123-1"> <gp:geopriv> <gp:location-info> '
        '<civicAddress xmlns="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"> <country>US</country> <A1>DE</A1> '
        "<A3>Wilmington</A3> <RD>Cellular</RD> <HNO>42</HNO> </civicAddress> </gp:location-info> "
        "<gp:method>Manual</gp:method> </gp:geopriv> </dm:device> </presence>"
    )
    return {
        "$id": "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us",
        "lastUpdateTimeStamp": "2021-04-30T18:43:49.439Z",
        "updatedByAgencyReference": agency,
        "updatedByAgentReference": {"$ref": "tjones.atroop@state.pa.us"},
        "eidoVersion": "1.0",
        "issuingElementIdentification": "idx.state.pa.us",
        "callComponent": [
            {
                "$id": "urn:emergency:uid:callid:a56e556d871:bcf.state.pa.us",
                "lastUpdateTimeStamp": "2021-04-30T18:42:00.0Z",
                "updatedByAgencyReference": agency,
                "queueIdentifier": "sos@state.pa.us",
                "standardPrimaryCallType": "emergency",
                "direction": "incoming",
                "callStartTimestamp": "2021-04-30T18:40:00.0Z",
                "answerDate": "2021-04-30T18:42:00.0Z",
                "callStateRegistryText": "callAnswered",
                "callBackReference": {"$ref": "cb-1"},
                "locationReference": [{"$ref": "loc-1"}, {"$ref": "loc-2"}],
            }
        ],
        "callbackComponent": [
            {
                "$id": "cb-1",
                "lastUpdateTimeStamp": "2021-04-30T18:40:00.0Z",
                "updatedByAgencyReference": agency,
                "callBackInformationUri": ["sip:8195551212@osp.com", "tel:8195551212"],
            }
        ],
        "agencyComponent": [
            {
                "$id": "state.pa.us",
                "lastUpdateTimeStamp": "2021-04-30T18:40:00.0Z",
                "updatedByAgencyReference": agency,
                "agencyRoleDescriptionRegistryText": ["CallReceiving"],
                "agencyType": ["psap"],
            }
        ],
        "locationComponent": [
            {
                "$id": "loc-1",
                "lastUpdateTimeStamp": "2021-04-30T18:40:00.0Z",
                "updatedByAgencyReference": agency,
                "locationTypeDescriptionRegistryText": "RoutingLocation",
                "locationByValue": civic,
            },
            {
                "$id": "loc-2",
                "lastUpdateTimeStamp": "2021-04-30T18:40:30.0Z",
                "updatedByAgencyReference": agency,
                "locationTypeDescriptionRegistryText": "Caller",
                "locationByReferenceUrl": "https://lrf.osp.com?oasufdqwerjn12346jfias",
            },
        ],
        "personComponent": [
            {
                "$id": "person-1",
                "lastUpdateTimeStamp": "2021-04-30T18:40:00.0",
                "updatedByAgencyReference": agency,
                "personIncidentRoleRegistryText": ["Caller"],
                "callIdentifier": ["urn:emergency:uid:callid:a56e556d871:bcf.state.pa.us"],
            }
        ],
        "@context": {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"},
    }


def test_nenas_call_transfer_sample_imports() -> None:
    plan = from_eido(EidoDocument.model_validate(nena_call_transfer_sample()), AGENCIES)
    assert plan.eido_id == "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    assert plan.category_candidates == ()  # no incident component: the importer names a fallback category
    assert plan.caller_number == "8195551212" and plan.agencies == [] and plan.status == "open"
    assert plan.call_started_at == datetime(2021, 4, 30, 18, 40, tzinfo=UTC)


def test_a_dispatch_to_an_agency_the_table_does_not_have_is_refused() -> None:
    body = to_eido(facts(), "112.example.id", T0, include_caller=True).json_body()
    with pytest.raises(EidoRefused) as refused:
        from_eido(EidoDocument.model_validate(body), ["psc119"])
    assert refused.value.error_id == "unknown_agency" and refused.value.details["unknown"] == ["damkar.112.example.id"]


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><presence>&a;</presence>', "DOCTYPE"),
        ("<presence><unclosed></presence>", "well-formed"),
        ("<svg/>", "root element"),
        ("<presence><pos>91 10</pos></presence>", "outside"),
        ("<presence><pos>nan 10</pos></presence>", "finite"),
        ("<presence><pos>1 2</pos><radius>-3</radius></presence>", "radius"),
        ("<presence>" + "x" * 20_000 + "</presence>", "at most"),
    ],
)
def test_hostile_pidf_lo_is_refused(xml: str, reason: str) -> None:
    with pytest.raises(pidf_lo.PidfRefused, match=reason):
        pidf_lo.parse(xml)


def test_a_pidf_lo_we_build_reads_back() -> None:
    place = Place(-6.1, 106.8, 12.5, "Kota Tangerang Selatan", "Serpong <Utara>", "Pakualam", "GPS")
    assert pidf_lo.parse(pidf_lo.build(place, "pres:x@example.id")) == place


@pytest.mark.parametrize(
    "change",
    [
        {"eidoVersion": "2.0"},
        {"agencyComponent": []},
        {"$id": ""},
        {"lastUpdateTimeStamp": "yesterday"},
        {"callComponent": [{"$id": "c"}]},
        {"issuingElementIdentification": "a\x00b"},
        {"lastUpdateTimeStamp": "9999-12-31T23:59:59-05:00"},
        {"lastUpdateTimeStamp": "0001-01-01T00:00:00+14:00"},
    ],
)
def test_documents_that_are_not_eido_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EidoDocument.model_validate(nena_call_transfer_sample() | change)


def test_a_webhook_carries_its_own_ticket_as_eido_and_the_callers_number_only_when_allowed() -> None:
    summary = TicketSummary(
        id=uuid.uuid4(),
        number="112-2026-000007",
        call_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        agency="damkar",
        category="fire",
        severity="high",
        status=TicketStatus.SENT,
        created_by="ani",
        created_at=T0,
        updated_at=T0,
    )
    place = TicketPlace(
        lat=-6.3,
        lon=106.6,
        radius_m=None,
        source="incident",
        address="Jl. Legok",
        kabupaten="Kabupaten Tangerang",
        kecamatan="Legok",
        kelurahan="Babakan",
        area="Legok",
    )
    events = [
        TicketEventView(
            at=T0,
            kind="status",
            from_status=None,
            to_status=TicketStatus.NEW,
            by="ani",
            actor=Actor.OPERATOR,
            text="tolong cepat",
        )
    ]
    record = TicketRecord(summary, None, "rumah terbakar", place, "+6281111111111", events)
    facts = ticket_facts(record, "Kebakaran", "fire")
    for allowed in (False, True):
        body = to_eido(facts, "112.example.id", T0, include_caller=allowed).json_body()
        assert ("+6281111111111" in json.dumps(body)) is allowed
        assert body["callComponent"] == [] and body["incidentComponent"]["incidentStatusInternalText"] == []
        assert [d["agencyReference"]["$ref"] for d in body["dispatchComponent"]] == ["damkar.112.example.id"]
    plan = from_eido(EidoDocument.model_validate(body), ["damkar"])
    assert (plan.incident_place.lat, plan.incident_place.lon, plan.address) == (-6.3, 106.6, "Jl. Legok")
    assert plan.caller_place.lat is None and plan.caller_place.kelurahan == "Babakan"  # the point is the operator's
    assert plan.description == "rumah terbakar" and "tolong cepat" in plan.ticket_notes["damkar"]
