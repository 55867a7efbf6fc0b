var fixtureConfiguration = {defaultLanguage: "en_US"};
