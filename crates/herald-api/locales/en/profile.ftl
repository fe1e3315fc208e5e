# /profile: the user's own settings.
profile-title = Your settings
profile-heading = Your settings, { $name }
profile-saved = Saved: every page reads in this language and shows times in this zone.
profile-language = Language
profile-language-hint = The language every console page reads in. Until you pick one, pages follow your browser's language.
profile-language-label = Pages read in
profile-language-browser = The browser's language
profile-zone = Time zone
profile-zone-hint = Every page shows times in this zone, naming it; it is now { $now }. A template's schedule still fires in its own zone.
profile-zone-label = Show times in
