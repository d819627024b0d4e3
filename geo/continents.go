package geo

// continentOf returns the continent code of an ISO 3166-1 alpha-2 country
// code (upper case), or "" for an unknown code. The assignment is GeoNames'
// (countryInfo.txt), which MaxMind's databases follow: for example Turkey,
// Kazakhstan and the Caucasus states are in AS, Russia and Cyprus in EU,
// East Timor in OC, Christmas Island in AS, the French Southern Territories
// in AN. It is a switch, not a table, so that there is no package state.
func continentOf(country string) string {
	switch country {
	case "AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV",
		"DJ", "DZ", "EG", "EH", "ER", "ET", "GA", "GH", "GM", "GN", "GQ",
		"GW", "KE", "KM", "LR", "LS", "LY", "MA", "MG", "ML", "MR", "MU",
		"MW", "MZ", "NA", "NE", "NG", "RE", "RW", "SC", "SD", "SH", "SL",
		"SN", "SO", "SS", "ST", "SZ", "TD", "TG", "TN", "TZ", "UG", "YT",
		"ZA", "ZM", "ZW":
		return "AF"
	case "AQ", "BV", "GS", "HM", "TF":
		return "AN"
	case "AE", "AF", "AM", "AZ", "BD", "BH", "BN", "BT", "CC", "CN", "CX",
		"GE", "HK", "ID", "IL", "IN", "IO", "IQ", "IR", "JO", "JP", "KG",
		"KH", "KP", "KR", "KW", "KZ", "LA", "LB", "LK", "MM", "MN", "MO",
		"MV", "MY", "NP", "OM", "PH", "PK", "PS", "QA", "SA", "SG", "SY",
		"TH", "TJ", "TM", "TR", "TW", "UZ", "VN", "YE":
		return "AS"
	case "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CY", "CZ",
		"DE", "DK", "EE", "ES", "FI", "FO", "FR", "GB", "GG", "GI", "GR",
		"HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU", "LV",
		"MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS",
		"RU", "SE", "SI", "SJ", "SK", "SM", "UA", "VA":
		return "EU"
	case "AG", "AI", "AW", "BB", "BL", "BM", "BQ", "BS", "BZ", "CA", "CR",
		"CU", "CW", "DM", "DO", "GD", "GL", "GP", "GT", "HN", "HT", "JM",
		"KN", "KY", "LC", "MF", "MQ", "MS", "MX", "NI", "PA", "PM", "PR",
		"SV", "SX", "TC", "TT", "US", "VC", "VG", "VI":
		return "NA"
	case "AS", "AU", "CK", "FJ", "FM", "GU", "KI", "MH", "MP", "NC", "NF",
		"NR", "NU", "NZ", "PF", "PG", "PN", "PW", "SB", "TK", "TL", "TO",
		"TV", "UM", "VU", "WF", "WS":
		return "OC"
	case "AR", "BO", "BR", "CL", "CO", "EC", "FK", "GF", "GY", "PE", "PY",
		"SR", "UY", "VE":
		return "SA"
	}
	return ""
}
