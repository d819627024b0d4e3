package gtm

import "strings"

// RegionAny is the region of an endpoint that serves clients no other
// endpoint's region matches.
const RegionAny = "*"

// countries are the officially assigned ISO 3166-1 alpha-2 codes.
const countries = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

// IsContinent reports whether code is a continent code a geographic
// endpoint may name (the MaxMind continent codes). Three of them are also
// country codes (NA Namibia, SA Saudi Arabia, AS American Samoa); in a
// policy they always mean the continent.
func IsContinent(code string) bool {
	switch code {
	case "AF", "AN", "AS", "EU", "NA", "OC", "SA":
		return true
	}
	return false
}

// IsCountry reports whether code is an assigned ISO 3166-1 alpha-2 code.
func IsCountry(code string) bool {
	if len(code) != 2 {
		return false
	}
	i := strings.Index(countries, code)
	return i >= 0 && i%3 == 0
}

// ValidRegion reports whether code may stand as an endpoint's region: "*",
// a continent code or a country code (upper case).
func ValidRegion(code string) bool {
	return code == RegionAny || IsContinent(code) || IsCountry(code)
}
